"""Sign-in through Passerelle, the portal session, and sign-out."""
