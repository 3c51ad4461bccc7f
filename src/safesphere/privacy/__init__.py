"""A tourist's own data: export all of it, delete the account."""
