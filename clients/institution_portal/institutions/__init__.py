"""The portal's registry of the institutions (DLIs) it serves: synced from Passerelle's
organizations API (the organizations attached to the portal's client), with the province
that only the ministry's operators know (`institutions import FILE.csv`)."""
