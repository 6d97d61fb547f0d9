"""leadcore's benchmarks (not tests): `python -m benchmarks` or `python -m leadcore bench`."""
