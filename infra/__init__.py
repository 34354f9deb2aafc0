"""Pulumi program for the SecureCart backup, replication and failover topology."""
