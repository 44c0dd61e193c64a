-- Each topic's status in a report, `iac=pass os=fail …` in report order, so that the list of
-- candidates shows them without reading every report's body. Reports stored before this column
-- existed have '' until sre-intake starts and fills them in (store::reports::fill_topic_statuses).
ALTER TABLE reports ADD COLUMN topics TEXT NOT NULL DEFAULT '';
