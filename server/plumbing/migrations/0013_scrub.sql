-- Finding the events that carry a reading entry's or a repair's words, when an edit, a
-- deletion or a changed note nulls the old ones: by the entry's (or repair's) id within the
-- couple, without reading the couple's whole log. Partial: other events never carry them.
CREATE INDEX events_words ON events (couple_id, (coalesce(body -> 'entry' ->> 'id', body ->> 'id')))
WHERE kind IN ('reading.entry_added', 'reading.entry_edited', 'repair.started',
               'repair.step_set', 'repair.finished', 'repair.abandoned');
