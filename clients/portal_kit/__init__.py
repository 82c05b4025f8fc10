"""Pieces every Passerelle portal (clients/institution_portal, clients/document_portal) shares
unchanged: the database column types, the security headers, the language choice, the
database-backed sign-in state store and the generic ID-token checks. It never imports `idp`
(portals talk to Passerelle over HTTP only) and knows no portal: each passes in what differs."""
