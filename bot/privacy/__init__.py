"""Privacy and governance (SPEC §11): removing customer data wherever it was copied, erasure, the audit log."""
