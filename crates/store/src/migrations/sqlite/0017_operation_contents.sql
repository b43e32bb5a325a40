-- Operations from now on commit to their journal entries and documents
-- through a salted Merkle tree (leaf format reliefhub-operation/2), so that
-- one donor's entries can be proved without showing another's. The secret
-- the salts derive from stays in the database; earlier operations keep
-- their format-1 leaves (both columns NULL).
ALTER TABLE operations ADD COLUMN contents_secret BLOB;
ALTER TABLE operations ADD COLUMN contents_root BLOB;
