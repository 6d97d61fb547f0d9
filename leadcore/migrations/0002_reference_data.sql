-- What ships with the product: system completion reasons, default settings (SPEC section 4)
-- and the sources a German dealership starts with.

INSERT INTO completion_reasons (code, label, outcome, is_system, position) VALUES
    ('sold',             'Sold',             'won',     TRUE, 1),
    ('bought_elsewhere', 'Bought elsewhere', 'lost',    TRUE, 2),
    ('no_interest',      'No interest',      'lost',    TRUE, 3),
    ('not_reachable',    'Not reachable',    'lost',    TRUE, 4),
    ('duplicate',        'Duplicate',        'neutral', TRUE, 5),
    ('spam',             'Spam',             'neutral', TRUE, 6);

INSERT INTO settings (key, value) VALUES
    ('timezone',                    '"Europe/Berlin"'),
    ('working_hours',               '[["08:00","18:00"],["08:00","18:00"],["08:00","18:00"],["08:00","18:00"],["08:00","18:00"],["09:00","13:00"],null]'),
    ('stage1_minutes',              '120'),
    ('reminder_minutes',            '30'),
    ('stage2_minutes',              '240'),
    ('stage2_resubmission_minutes', '1440'),
    ('default_lead_type',           '"new_car"'),
    ('dealership_name',             '"Autohaus"');

INSERT INTO sources (name, channel, position) VALUES
    ('mobile.de',    'marketplace', 1),
    ('AutoScout24',  'marketplace', 2),
    ('Website form', 'website',     3),
    ('Phone',        'phone',       4),
    ('Walk-in',      'walk-in',     5),
    ('E-mail',       'e-mail',      6);
