"""Data-quality and gate checks. Great Expectations 1.x runs directly (ephemeral context); each check
returns a Dagster AssetCheckResult whose metadata shows the expectation, the observed value and sample
rows."""
