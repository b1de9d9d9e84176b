"""rollout's benchmark (python -m bench): not a test, it measures and prints figures."""
