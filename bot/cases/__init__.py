"""Cases: their lifecycle, what each change checks, who may do it, and their timings."""
