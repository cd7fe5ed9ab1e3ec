"""Development tools: not installed with reportgen; tests, benchmarks and sample_logs use them."""
