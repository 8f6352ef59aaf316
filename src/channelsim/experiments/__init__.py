"""Many runs: replicate seeds, executors, comparisons, sweeps, designs, statistics."""
