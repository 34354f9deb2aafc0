"""SecureCart chaos harness: inject failures, recover, and measure the real RTO and RPO."""
