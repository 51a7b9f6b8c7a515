# Pure Python (no ORM): the CloudEvents AMQP binding, broker settings, the transport and the consumer.
from . import transports
