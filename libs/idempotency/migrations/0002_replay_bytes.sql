-- A replay sends the first response's body byte for byte. As jsonb the body came back with its
-- object keys reordered (shorter keys first) and its whitespace normalised: the same value, but a
-- client comparing or signing the bytes of a response, or a cache keyed on them, saw another
-- answer. The text is what the client received; records written before keep jsonb's order.
ALTER TABLE idempotency_keys ALTER COLUMN body TYPE text USING body::text;
