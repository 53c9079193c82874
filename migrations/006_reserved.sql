-- Placeholder for migration 006, which another branch of issue 11/13 adds (tern refuses a gap
-- before 011 on this branch). Delete this file when the real 006 lands; it changes nothing.
SELECT 1;

---- create above / drop below ----

SELECT 1;
