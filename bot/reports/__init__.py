"""What the core reports: digests, weekly summaries, stats, lists and the queries behind them."""
