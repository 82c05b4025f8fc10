"""The portal's own terms of use, versioned, accepted once per person and version."""
