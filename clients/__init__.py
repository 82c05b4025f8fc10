"""Relying parties that sign in against Passerelle: separate Flask apps, never part of `idp`."""
