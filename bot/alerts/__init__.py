"""Alerts: threshold rules and escalations of overdue cases."""
