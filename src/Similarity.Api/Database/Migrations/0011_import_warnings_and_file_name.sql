-- A row stored with a warning (its picture failed, missingImage=textOnly) is counted apart from a rejected row:
-- `errors` stays the rows not stored, `warnings` the rows stored with a warning. Jobs before this migration
-- count theirs from their listed rows.
ALTER TABLE import_jobs ADD COLUMN warnings integer NOT NULL DEFAULT 0;
UPDATE import_jobs j SET warnings = (SELECT count(*) FROM import_errors e WHERE e.job_id = j.id AND e.stored);
-- The uploaded catalog's file name as the client sent it, shown in the list of recent imports.
ALTER TABLE import_jobs ADD COLUMN file_name text;
