"""Charts on demand: numbers from SQL, control limits, rendering in a worker process, words for the image."""
