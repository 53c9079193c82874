-- Placeholder for migration 008, which another branch of issue 11/13 adds (tern refuses a gap
-- before 011 on this branch). Delete this file when the real 008 lands; it changes nothing.
SELECT 1;

---- create above / drop below ----

SELECT 1;
