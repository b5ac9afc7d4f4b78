-- Placeholder so the hybrid branch's 0016 runs without a gap: the version is another branch's (issue 22's work);
-- at merge its real migration replaces this file.
SELECT 1;
