"""The `idp` command line for operators: database, clients, users, signing keys, demo data.

One module per command group; idp.cli.base holds what they share. The console script
points at `main` here.
"""

from idp.cli import audit, clients, db, demo, doctor, invitations, keys, logout, mail, orgs, partners, terms, users, worker
from idp.cli.base import main

main.add_command(db.db)
main.add_command(clients.clients)
main.add_command(users.users)
main.add_command(keys.keys)
main.add_command(demo.demo)
main.add_command(mail.mail)
main.add_command(invitations.invitations)
main.add_command(terms.terms)
main.add_command(partners.partners)
main.add_command(orgs.orgs)
main.add_command(audit.audit)
main.add_command(worker.worker)
main.add_command(worker.serve_management)
main.add_command(worker.serve)
main.add_command(doctor.doctor)
main.add_command(logout.logout)

__all__ = ["main"]
