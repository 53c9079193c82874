-- updated_at moves only when an update changes the row. An edit that writes back what was
-- there (an admin saving a form untouched, a PATCH repeating the current values, an import
-- re-applying an unchanged entry) leaves it: updated_at says when the row last changed, which
-- is what an operator sorting by it, or a client syncing by it, reads it as. The row is
-- compared whole, updated_at included, so an update that sets updated_at itself still does.
CREATE OR REPLACE FUNCTION xtreamd_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW IS DISTINCT FROM OLD THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END
$$;

---- create above / drop below ----

CREATE OR REPLACE FUNCTION xtreamd_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;
