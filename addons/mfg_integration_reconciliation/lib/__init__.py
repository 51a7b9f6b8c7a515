"""Pure reconciliation logic (no ORM): compare an external system's snapshot with Odoo's view."""
