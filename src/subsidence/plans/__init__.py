"""Pure computation for mine treatment plans: remote-sensing verification of treated parcels and plan gaps."""
