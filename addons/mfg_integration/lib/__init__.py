"""Pure-Python building blocks of the integration hub: no ORM import here."""
