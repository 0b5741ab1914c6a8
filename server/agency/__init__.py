"""The agency API: how agencies' core record systems take completed records in (a cursor
feed in JSON or FHIR R4, with acknowledgements and signed webhooks) and send family details
and allocations back (write-back with version checks, through the same merge as phones)."""
