"""A loopback Slack for tests and the sandbox: Web API, response_urls, uploads, Socket Mode, and a driver."""

from slack_emulator.driver import Delivery
from slack_emulator.emulator import SlackEmulator
from slack_emulator.faults import CallRecord
from slack_emulator.state import SlackError

__all__ = ["CallRecord", "Delivery", "SlackEmulator", "SlackError"]
