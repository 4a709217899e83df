"""`loopbot sandbox`: the Slack emulator, Loopbot and demo data in one process, with a web page to use them."""
