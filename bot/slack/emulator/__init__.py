"""A loopback Slack for tests and the sandbox: Web API, response_urls, uploads, Socket Mode, and a driver."""
from bot.slack.emulator.driver import Delivery
from bot.slack.emulator.emulator import SlackEmulator
from bot.slack.emulator.faults import CallRecord
from bot.slack.emulator.state import SlackError

__all__ = ["CallRecord", "Delivery", "SlackEmulator", "SlackError"]
