-- A registry database as main created it before schema version 2 (commit ad557b1): two
-- operators' reviews, one confirmed speeding case paid at the 50% rate, its ledger entries.
-- Made with tests/support/registry_fixtures.RegistryWorld of that commit and `sqlite3 .dump`.
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO meta VALUES('schema_version','1');
CREATE TABLE devices (
    device_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('camera', 'terminal', 'bank')),
    public_key TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
    description TEXT NOT NULL DEFAULT '',
    registered_at TEXT NOT NULL,
    revoked_at TEXT,
    revoked_reason TEXT
);
INSERT INTO devices VALUES('cam-astana-0001','camera','JOlqa__4CdlIa1k2lQP4d8i5KpC6LpI_OhzahBMLK6c','active','','2025-03-10T06:00:00.000000+00:00',NULL,NULL);
INSERT INTO devices VALUES('term-patrol-0001','terminal','GQem0AqvKBx7ZJ-YwJqlCy7ZFkne-kbNRNYqGgZ1QR8','active','','2025-03-10T06:00:00.000000+00:00',NULL,NULL);
CREATE TABLE operators (
    username TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('reviewer', 'supervisor', 'prosecutor', 'bailiff', 'admin')),
    password_hash TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);
INSERT INTO operators VALUES('aigerim','Aigerim','reviewer','not-a-login',1,'2025-03-10T06:00:00.000000+00:00');
INSERT INTO operators VALUES('daniyar','Daniyar','reviewer','not-a-login',1,'2025-03-10T06:00:00.000000+00:00');
INSERT INTO operators VALUES('saule','Saule','supervisor','not-a-login',1,'2025-03-10T06:00:00.000000+00:00');
INSERT INTO operators VALUES('bolat','Bolat','supervisor','not-a-login',1,'2025-03-10T06:00:00.000000+00:00');
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES operators(username),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE TABLE login_failures (
    username TEXT NOT NULL,
    failed_at TEXT NOT NULL
);
CREATE TABLE evidence (
    sha256 TEXT PRIMARY KEY,
    size_bytes INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    width INTEGER,
    height INTEGER,
    uploaded_by TEXT NOT NULL,
    stored_at TEXT NOT NULL
);
INSERT INTO evidence VALUES('5bfa5a2cf31df752013202b62f7c6ca5cf19af455e8ceb02155d35eeb16fe406',12,'image/jpeg',NULL,NULL,'cam-astana-0001','2025-03-10T06:00:00.000000+00:00');
INSERT INTO evidence VALUES('5985accfbfee2c963f04bba5110a04440657f4127875516d6db7ed0e2ecae79e',12,'image/jpeg',NULL,NULL,'cam-astana-0001','2025-03-10T06:00:00.000000+00:00');
INSERT INTO evidence VALUES('5dcbc3ccd0477baf36640bfd0b72e7b0f35ac2ed178efda86e33ed9b3e0ed5a3',12,'image/jpeg',NULL,NULL,'cam-astana-0001','2025-03-10T06:00:00.000000+00:00');
INSERT INTO evidence VALUES('6c48090be26242080befb8b3c2eb7a5d67ec9cb7859e6732343894a6f1722f70',12,'image/jpeg',NULL,NULL,'cam-astana-0001','2025-03-10T06:00:00.000000+00:00');
CREATE TABLE messages (
    message_id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL REFERENCES devices(device_id),
    kind TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('mqtt', 'http')),
    received_at TEXT NOT NULL,
    envelope_sha256 TEXT NOT NULL,
    envelope TEXT NOT NULL
);
INSERT INTO messages VALUES('c0562570-273e-4a6f-80b3-0d622088c1d8','cam-astana-0001','fixation','http','2025-03-10T06:00:00.000000+00:00','f2dbf20cbda6c167ab4d3decb6ec7da08ada1081ed62f992d62f5866677e8413','{"body":{"captured_at":"2025-03-10T05:59:57Z","clock_source":"gps","evidence":[{"content_type":"image/jpeg","height":null,"role":"full_frame","sha256":"5bfa5a2cf31df752013202b62f7c6ca5cf19af455e8ceb02155d35eeb16fe406","size_bytes":12,"width":null},{"content_type":"image/jpeg","height":null,"role":"plate_crop","sha256":"5985accfbfee2c963f04bba5110a04440657f4127875516d6db7ed0e2ecae79e","size_bytes":12,"width":null}],"fixation_id":"c0562570-273e-4a6f-80b3-0d622088c1d8","measurement":{"lane":null,"light_phase":null,"limit_kmh":60,"red_elapsed_ms":null,"speed_kmh":85.0,"tolerance_kmh":null},"plate":{"box":null,"confidence":0.96,"format":"kz_person","text":"123ABC01"},"position":{"fix_quality":1,"lat":51.128,"lon":71.43,"satellites":9},"sequence":1,"violation":"speeding","zone":"Astana, Kabanbay batyr avenue, km 4"},"device_id":"cam-astana-0001","kind":"fixation","message_id":"c0562570-273e-4a6f-80b3-0d622088c1d8","schema_version":1,"sent_at":"2026-12-07T13:37:42.223795Z","signature":"y-71QWv5-ikjfmJ800JbRi0FiEv-jJX9O9xvlM7sc9QGSUsqIEPYIjIkxkikYxSWU8wD-vYD724o9qPSlJFmCg"}');
INSERT INTO messages VALUES('c6431560-262f-49a6-8d7e-871804fdbcd8','cam-astana-0001','fixation','http','2025-03-10T06:00:00.000000+00:00','bb497042bb5910c0672d78b73379b42f6c46d16b5aa01aac79e369662a2e277a','{"body":{"captured_at":"2025-03-10T05:59:57Z","clock_source":"gps","evidence":[{"content_type":"image/jpeg","height":null,"role":"full_frame","sha256":"5dcbc3ccd0477baf36640bfd0b72e7b0f35ac2ed178efda86e33ed9b3e0ed5a3","size_bytes":12,"width":null},{"content_type":"image/jpeg","height":null,"role":"plate_crop","sha256":"6c48090be26242080befb8b3c2eb7a5d67ec9cb7859e6732343894a6f1722f70","size_bytes":12,"width":null}],"fixation_id":"c6431560-262f-49a6-8d7e-871804fdbcd8","measurement":{"lane":null,"light_phase":null,"limit_kmh":60,"red_elapsed_ms":null,"speed_kmh":85.0,"tolerance_kmh":null},"plate":{"box":null,"confidence":0.96,"format":"kz_person","text":"456DEF02"},"position":{"fix_quality":1,"lat":51.128,"lon":71.43,"satellites":9},"sequence":2,"violation":"speeding","zone":"Astana, Kabanbay batyr avenue, km 4"},"device_id":"cam-astana-0001","kind":"fixation","message_id":"c6431560-262f-49a6-8d7e-871804fdbcd8","schema_version":1,"sent_at":"2026-12-07T13:37:42.226675Z","signature":"Gd_hXPvVAHXzXT9BugvxhMDBAhdeDUmQqcTWC9DLOOjjnCYrD0b7ZU3DQThDyxnMdYBk-pYyi7ST6EQL0h3iAw"}');
INSERT INTO messages VALUES('0de5512d-abb1-4fea-8e22-83eaf9ac1125','term-patrol-0001','payment','http','2025-03-11T06:00:00.000000+00:00','42707d0f348f360cdaf76a9f8f2d9ee8040cbfe9f9df9030afb1b0ff7fdaea0d','{"body":{"acquirer":{"approval_code":"A1B2C3","rrn":"123456789012","stan":"000042","terminal_id":null},"amount_minor":1966000,"card":{"aid":"A0000000031010","masked_pan":"440043******1234","scheme":"visa"},"case_number":"KZ-GP-2025-0000001","channel":"terminal","currency":"KZT","paid_at":"2025-03-11T06:00:00Z","payer_iin":null,"payment_id":"0de5512d-abb1-4fea-8e22-83eaf9ac1125"},"device_id":"term-patrol-0001","kind":"payment","message_id":"0de5512d-abb1-4fea-8e22-83eaf9ac1125","schema_version":1,"sent_at":"2026-12-07T13:37:42.229546Z","signature":"yeK2naa_xAD0zMzEeKZcByB3Fmscwn9OJmMu40pC_dUbTy2s7qd4ge0Gg3TvYEUgzmlVzd1EF_HnbxJeC6NLBg"}');
CREATE TABLE fixations (
    fixation_id TEXT PRIMARY KEY,
    message_id TEXT NOT NULL UNIQUE REFERENCES messages(message_id),
    device_id TEXT NOT NULL REFERENCES devices(device_id),
    sequence INTEGER NOT NULL,
    captured_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    violation TEXT NOT NULL,
    plate_text TEXT NOT NULL,
    plate_confidence REAL NOT NULL,
    plate_format TEXT NOT NULL,
    speed_kmh REAL,
    limit_kmh INTEGER,
    light_phase TEXT,
    zone TEXT NOT NULL,
    lat REAL,
    lon REAL,
    status TEXT NOT NULL DEFAULT 'awaiting_review'
        CHECK (status IN ('awaiting_review', 'confirmed', 'rejected')),
    decided_at TEXT,
    decided_by TEXT REFERENCES operators(username),
    reject_reason TEXT,
    decision_note TEXT,
    seconds_spent REAL,
    corrected_plate TEXT,
    correction_reason TEXT,
    CHECK (status = 'awaiting_review' OR (decided_by IS NOT NULL AND decided_at IS NOT NULL)),
    CHECK (status != 'rejected' OR reject_reason IS NOT NULL)
);
INSERT INTO fixations VALUES('c0562570-273e-4a6f-80b3-0d622088c1d8','c0562570-273e-4a6f-80b3-0d622088c1d8','cam-astana-0001',1,'2025-03-10T05:59:57.000000+00:00','2025-03-10T06:00:00.000000+00:00','speeding','123ABC01',0.95999999999999996447,'kz_person',85.0,60,NULL,'Astana, Kabanbay batyr avenue, km 4',51.128000000000000113,71.430000000000006821,'confirmed','2025-03-10T06:00:00.000000+00:00','aigerim',NULL,NULL,12.5,NULL,NULL);
INSERT INTO fixations VALUES('c6431560-262f-49a6-8d7e-871804fdbcd8','c6431560-262f-49a6-8d7e-871804fdbcd8','cam-astana-0001',2,'2025-03-10T05:59:57.000000+00:00','2025-03-10T06:00:00.000000+00:00','speeding','456DEF02',0.95999999999999996447,'kz_person',85.0,60,NULL,'Astana, Kabanbay batyr avenue, km 4',51.128000000000000113,71.430000000000006821,'awaiting_review',NULL,NULL,NULL,NULL,NULL,NULL,NULL);
CREATE TABLE fixation_evidence (
    fixation_id TEXT NOT NULL REFERENCES fixations(fixation_id),
    sha256 TEXT NOT NULL REFERENCES evidence(sha256),
    role TEXT NOT NULL,
    PRIMARY KEY (fixation_id, sha256)
);
INSERT INTO fixation_evidence VALUES('c0562570-273e-4a6f-80b3-0d622088c1d8','5bfa5a2cf31df752013202b62f7c6ca5cf19af455e8ceb02155d35eeb16fe406','full_frame');
INSERT INTO fixation_evidence VALUES('c0562570-273e-4a6f-80b3-0d622088c1d8','5985accfbfee2c963f04bba5110a04440657f4127875516d6db7ed0e2ecae79e','plate_crop');
INSERT INTO fixation_evidence VALUES('c6431560-262f-49a6-8d7e-871804fdbcd8','5dcbc3ccd0477baf36640bfd0b72e7b0f35ac2ed178efda86e33ed9b3e0ed5a3','full_frame');
INSERT INTO fixation_evidence VALUES('c6431560-262f-49a6-8d7e-871804fdbcd8','6c48090be26242080befb8b3c2eb7a5d67ec9cb7859e6732343894a6f1722f70','plate_crop');
CREATE TABLE device_status (
    device_id TEXT PRIMARY KEY REFERENCES devices(device_id),
    message_id TEXT NOT NULL,
    reported_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE vehicles (
    plate TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL,
    owner_kind TEXT NOT NULL CHECK (owner_kind IN ('person', 'organisation')),
    owner_name TEXT NOT NULL,
    phone TEXT,
    email TEXT,
    make TEXT,
    model TEXT,
    colour TEXT
);
INSERT INTO vehicles VALUES('123ABC01','791028302728','person','Nurlan Abenov','+77011234567','n.abenov@example.kz','Toyota','Camry','white');
INSERT INTO vehicles VALUES('456DEF02','061211600012','person','Aliya Serikova','+77017654321',NULL,'Hyundai','Elantra','grey');
CREATE TABLE case_numbers (
    year INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
);
INSERT INTO case_numbers VALUES(2025,1);
CREATE TABLE cases (
    case_number TEXT PRIMARY KEY,
    fixation_id TEXT NOT NULL UNIQUE REFERENCES fixations(fixation_id),
    plate TEXT NOT NULL,
    owner_id TEXT,
    owner_name TEXT,
    owner_phone TEXT,
    owner_email TEXT,
    violation TEXT NOT NULL,
    article TEXT NOT NULL,
    part TEXT NOT NULL,
    offence_at TEXT NOT NULL,
    mrp_kzt INTEGER NOT NULL,
    fine_mrp INTEGER NOT NULL,
    fine_minor INTEGER NOT NULL CHECK (fine_minor > 0),
    discount_percent INTEGER NOT NULL,
    resolution_at TEXT NOT NULL,
    resolved_by TEXT NOT NULL REFERENCES operators(username),
    discount_deadline TEXT NOT NULL,
    entry_into_force TEXT NOT NULL,
    voluntary_deadline TEXT NOT NULL,
    limitation_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'paid', 'underpaid', 'sent_to_bailiffs', 'cancelled', 'expired')),
    paid_minor INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);
INSERT INTO cases VALUES('KZ-GP-2025-0000001','c0562570-273e-4a6f-80b3-0d622088c1d8','123ABC01','791028302728','Nurlan Abenov','+77011234567','n.abenov@example.kz','speeding','592','2','2025-03-10T05:59:57.000000+00:00',3932,10,3932000,50,'2025-03-10T06:00:00.000000+00:00','aigerim','2025-03-17T06:00:00.000000+00:00','2025-03-20T06:00:00.000000+00:00','2025-04-19T06:00:00.000000+00:00','2026-03-20T06:00:00.000000+00:00','paid',1966000,'2025-03-11T06:00:00.000000+00:00');
CREATE TABLE payments (
    payment_id TEXT PRIMARY KEY,
    message_id TEXT NOT NULL UNIQUE REFERENCES messages(message_id),
    device_id TEXT NOT NULL REFERENCES devices(device_id),
    case_number TEXT NOT NULL,
    matched_case TEXT REFERENCES cases(case_number),
    amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
    currency TEXT NOT NULL CHECK (currency = 'KZT'),
    paid_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    channel TEXT NOT NULL,
    masked_pan TEXT,
    scheme TEXT,
    aid TEXT,
    approval_code TEXT,
    rrn TEXT,
    stan TEXT,
    due_minor INTEGER,
    match_status TEXT NOT NULL
        CHECK (match_status IN ('settled', 'underpaid', 'overpaid', 'unknown_case',
                                'case_closed', 'after_handover'))
);
INSERT INTO payments VALUES('0de5512d-abb1-4fea-8e22-83eaf9ac1125','0de5512d-abb1-4fea-8e22-83eaf9ac1125','term-patrol-0001','KZ-GP-2025-0000001','KZ-GP-2025-0000001',1966000,'KZT','2025-03-11T06:00:00.000000+00:00','2025-03-11T06:00:00.000000+00:00','terminal','440043******1234','visa','A0000000031010','A1B2C3','123456789012','000042',1966000,'settled');
CREATE TABLE cancellation_requests (
    request_id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_number TEXT NOT NULL REFERENCES cases(case_number),
    requested_by TEXT NOT NULL REFERENCES operators(username),
    requested_at TEXT NOT NULL,
    reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied')),
    decided_by TEXT REFERENCES operators(username),
    decided_at TEXT,
    decision_note TEXT,
    CHECK (decided_by IS NULL OR decided_by != requested_by),
    CHECK (status = 'pending' OR decided_by IS NOT NULL)
);
CREATE TABLE bailiff_handovers (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    case_number TEXT NOT NULL REFERENCES cases(case_number),
    kind TEXT NOT NULL CHECK (kind IN ('handover', 'recall')),
    amount_minor INTEGER NOT NULL,
    recorded_at TEXT NOT NULL,
    document TEXT NOT NULL,
    UNIQUE (case_number, kind)
);
CREATE TABLE notifications (
    notification_id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_number TEXT NOT NULL REFERENCES cases(case_number),
    channel TEXT NOT NULL CHECK (channel IN ('sms', 'email')),
    recipient TEXT NOT NULL,
    subject TEXT,
    body TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    next_attempt_at TEXT NOT NULL,
    sent_at TEXT,
    last_error TEXT
);
INSERT INTO notifications VALUES(1,'KZ-GP-2025-0000001','sms','+77011234567',NULL,'Fine art.592 p.2, 123ABC01, 10.03.2025: pay 19,660 KZT until 17.03.2025 11:00, then 39,320 KZT. https://erap.example.kz/cases/KZ-GP-2025-0000001','pending',0,'2025-03-10T06:00:00.000000+00:00','2025-03-10T06:00:00.000000+00:00',NULL,NULL);
INSERT INTO notifications VALUES(2,'KZ-GP-2025-0000001','email','n.abenov@example.kz','Administrative case KZ-GP-2025-0000001: speeding, vehicle 123ABC01',replace('Dear Nurlan Abenov,\n\nAn administrative case has been opened against the registered owner of vehicle 123ABC01.\n\nCase number:  KZ-GP-2025-0000001\nOffence:      speeding, article 592 part 2 of the Code of Administrative Offences\nRecorded at:  10.03.2025 10:59\nFine:         10 MRP x 3,932 KZT = 39,320 KZT\n\nAmount due:\n  19,660 KZT if paid by 17.03.2025 11:00 (50% discount, provided you do not appeal);\n  39,320 KZT after that, until 19.04.2025 11:00.\n\nThe resolution enters into force on 20.03.2025 11:00; you may appeal it until then. A fine still unpaid after 19.04.2025 11:00 is handed to bailiffs for enforcement.\n\nThe photographs of the offence, the resolution and the ways to pay: https://erap.example.kz/cases/KZ-GP-2025-0000001\nWhen paying through the eGov portal or a banking app, quote the case number.\n\nAll times are Astana time (UTC+5).\nThis message was sent automatically by the unified registry of administrative proceedings (ERAP); replies are not read.\n','\n',char(10)),'pending',0,'2025-03-10T06:00:00.000000+00:00','2025-03-10T06:00:00.000000+00:00',NULL,NULL);
CREATE TABLE dead_letters (
    dead_letter_id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at TEXT NOT NULL,
    channel TEXT NOT NULL,
    topic TEXT,
    device_id TEXT,
    message_id TEXT,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    retryable INTEGER NOT NULL DEFAULT 0,
    payload BLOB NOT NULL
);
CREATE TABLE ledger (
    seq INTEGER PRIMARY KEY,
    recorded_at TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    payload TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    entry_hash TEXT NOT NULL UNIQUE,
    leaf_hash TEXT NOT NULL
);
INSERT INTO ledger VALUES(1,'2025-03-10T06:00:00.000000+00:00','fixation','c0562570-273e-4a6f-80b3-0d622088c1d8','received','device:cam-astana-0001','{"captured_at": "2025-03-10T05:59:57.000000+00:00", "envelope_sha256": "f2dbf20cbda6c167ab4d3decb6ec7da08ada1081ed62f992d62f5866677e8413", "plate": "123ABC01", "status": "awaiting_review", "violation": "speeding"}','0000000000000000000000000000000000000000000000000000000000000000','a0bb0bfabd097095757da101ec68d2b571c5c6a7751fca9229a1504926cb42f0','3e6da25c912ca2f0eb454209b9b65b86d122458cc033d421b1c8d133a532ec6d');
INSERT INTO ledger VALUES(2,'2025-03-10T06:00:00.000000+00:00','fixation','c6431560-262f-49a6-8d7e-871804fdbcd8','received','device:cam-astana-0001','{"captured_at": "2025-03-10T05:59:57.000000+00:00", "envelope_sha256": "bb497042bb5910c0672d78b73379b42f6c46d16b5aa01aac79e369662a2e277a", "plate": "456DEF02", "status": "awaiting_review", "violation": "speeding"}','a0bb0bfabd097095757da101ec68d2b571c5c6a7751fca9229a1504926cb42f0','f9259eab8e4ebc7716f9888aae0fc4209c73341a45ed88c11a453bc86c6b893b','a73fecfabb79c3017a4de32441b7b4aa524d9af54bde9064bf47a39e4a0e33a5');
INSERT INTO ledger VALUES(3,'2025-03-10T06:00:00.000000+00:00','fixation','c0562570-273e-4a6f-80b3-0d622088c1d8','confirmed','officer:aigerim','{"case_number": "KZ-GP-2025-0000001", "corrected_plate": null, "correction_reason": null, "note": null, "officer": "aigerim", "seconds_spent": 12.5, "status": "confirmed"}','f9259eab8e4ebc7716f9888aae0fc4209c73341a45ed88c11a453bc86c6b893b','427cede280200627a786892dd07cb456ffee7cc791c90a9da9cd897cebc9c53f','06ec94a257b792757e9d8188b7385b147c08f0b20b508444b04da82aac92f2fa');
INSERT INTO ledger VALUES(4,'2025-03-10T06:00:00.000000+00:00','case','KZ-GP-2025-0000001','opened','officer:aigerim','{"article": "592", "discount_deadline": "2025-03-17T06:00:00.000000+00:00", "discounted_minor": 1966000, "entry_into_force": "2025-03-20T06:00:00.000000+00:00", "fine_minor": 3932000, "fine_mrp": 10, "fixation_id": "c0562570-273e-4a6f-80b3-0d622088c1d8", "limitation_at": "2026-03-20T06:00:00.000000+00:00", "mrp_kzt": 3932, "offence_at": "2025-03-10T05:59:57.000000+00:00", "owner_id": "791028302728", "paid_minor": 0, "part": "2", "plate": "123ABC01", "resolution_at": "2025-03-10T06:00:00.000000+00:00", "status": "open", "voluntary_deadline": "2025-04-19T06:00:00.000000+00:00"}','427cede280200627a786892dd07cb456ffee7cc791c90a9da9cd897cebc9c53f','c3784b2d330527135f1221e06d7e80ca4d1f0122acae0990d7667c4bbe2c585b','c74c7bff8756c8a4d985002c804467fb6ae13673ddca8960e23f4c7e5be9c070');
INSERT INTO ledger VALUES(5,'2025-03-11T06:00:00.000000+00:00','payment','0de5512d-abb1-4fea-8e22-83eaf9ac1125','received','device:term-patrol-0001','{"amount_minor": 1966000, "case_number": "KZ-GP-2025-0000001", "channel": "terminal", "due_minor": 1966000, "match_status": "settled", "matched_case": "KZ-GP-2025-0000001", "paid_at": "2025-03-11T06:00:00.000000+00:00"}','c3784b2d330527135f1221e06d7e80ca4d1f0122acae0990d7667c4bbe2c585b','0ec25b5dbdc84485c1ab0317b82a85ab9cb35aded8e49ac45cf07ec2758edbc8','22ed9cdb0a65313318211ca7d98576ad0207f1a8bf53472c1d37069177ffe85e');
INSERT INTO ledger VALUES(6,'2025-03-11T06:00:00.000000+00:00','case','KZ-GP-2025-0000001','payment_applied','device:term-patrol-0001','{"match_status": "settled", "paid_minor": 1966000, "payment_id": "0de5512d-abb1-4fea-8e22-83eaf9ac1125", "status": "paid"}','0ec25b5dbdc84485c1ab0317b82a85ab9cb35aded8e49ac45cf07ec2758edbc8','ed7efb2011c004055aae48d87c91f45b9b767b1d2b4049d7aaa6ac2ee67ddad2','0d0de3c335a8c1ec04cf71dd229adeeea2f4f630a72b1f3c6a2d570e9aa503b9');
CREATE TABLE merkle_nodes (
    level INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;
INSERT INTO merkle_nodes VALUES(0,0,X'3e6da25c912ca2f0eb454209b9b65b86d122458cc033d421b1c8d133a532ec6d');
INSERT INTO merkle_nodes VALUES(0,1,X'a73fecfabb79c3017a4de32441b7b4aa524d9af54bde9064bf47a39e4a0e33a5');
INSERT INTO merkle_nodes VALUES(0,2,X'06ec94a257b792757e9d8188b7385b147c08f0b20b508444b04da82aac92f2fa');
INSERT INTO merkle_nodes VALUES(0,3,X'c74c7bff8756c8a4d985002c804467fb6ae13673ddca8960e23f4c7e5be9c070');
INSERT INTO merkle_nodes VALUES(0,4,X'22ed9cdb0a65313318211ca7d98576ad0207f1a8bf53472c1d37069177ffe85e');
INSERT INTO merkle_nodes VALUES(0,5,X'0d0de3c335a8c1ec04cf71dd229adeeea2f4f630a72b1f3c6a2d570e9aa503b9');
INSERT INTO merkle_nodes VALUES(1,0,X'10a78acd2e516d3a43fa74fef2e673ddd49058de9fe448d2f1ec5652014d911f');
INSERT INTO merkle_nodes VALUES(1,1,X'ea9244701029cb2fda4c680ac77477c6ea01716005a6a972d6b8c1d5fa5eb4bf');
INSERT INTO merkle_nodes VALUES(1,2,X'43f2ae6edaae94675d2566dee41351be17b10d1b5ed5dec25f55db0f8f759283');
INSERT INTO merkle_nodes VALUES(2,0,X'8b9edf83abed6dc3ce0319821f60240aec4481d58e3dbd3be504cc67b6f91ff8');
CREATE TABLE tree_heads (
    tree_size INTEGER PRIMARY KEY,
    root_hash TEXT NOT NULL,
    signed_at TEXT NOT NULL,
    key_id TEXT NOT NULL,
    signature TEXT NOT NULL
);
DELETE FROM sqlite_sequence;
INSERT INTO sqlite_sequence VALUES('notifications',2);
CREATE INDEX login_failures_user ON login_failures(username, failed_at);
CREATE INDEX fixations_review_queue ON fixations(status, received_at, fixation_id);
CREATE INDEX fixations_plate ON fixations(plate_text);
CREATE INDEX fixations_device_seq ON fixations(device_id, sequence);
CREATE INDEX cases_status ON cases(status, voluntary_deadline);
CREATE INDEX cases_plate ON cases(plate);
CREATE INDEX cases_owner ON cases(owner_id);
CREATE INDEX payments_case ON payments(matched_case);
CREATE INDEX notifications_due ON notifications(status, next_attempt_at);
CREATE INDEX dead_letters_reason ON dead_letters(reason);
CREATE INDEX ledger_entity ON ledger(entity_type, entity_id);
CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
BEGIN SELECT RAISE(ABORT, 'the audit ledger is append-only'); END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
BEGIN SELECT RAISE(ABORT, 'the audit ledger is append-only'); END;
CREATE TRIGGER merkle_no_update BEFORE UPDATE ON merkle_nodes
BEGIN SELECT RAISE(ABORT, 'the Merkle tree is append-only'); END;
CREATE TRIGGER merkle_no_delete BEFORE DELETE ON merkle_nodes
BEGIN SELECT RAISE(ABORT, 'the Merkle tree is append-only'); END;
CREATE TRIGGER tree_heads_no_update BEFORE UPDATE ON tree_heads
BEGIN SELECT RAISE(ABORT, 'signed tree heads are append-only'); END;
CREATE TRIGGER tree_heads_no_delete BEFORE DELETE ON tree_heads
BEGIN SELECT RAISE(ABORT, 'signed tree heads are append-only'); END;
CREATE TRIGGER messages_no_update BEFORE UPDATE ON messages
BEGIN SELECT RAISE(ABORT, 'received messages are kept verbatim'); END;
CREATE TRIGGER handover_never_paid BEFORE INSERT ON bailiff_handovers
WHEN NEW.kind = 'handover'
 AND EXISTS (SELECT 1 FROM payments WHERE matched_case = NEW.case_number)
BEGIN SELECT RAISE(ABORT, 'case has a payment: it is never handed to bailiffs'); END;
CREATE TRIGGER case_bailiffs_never_paid BEFORE UPDATE OF status ON cases
WHEN NEW.status = 'sent_to_bailiffs'
 AND (OLD.status != 'open'
      OR EXISTS (SELECT 1 FROM payments WHERE matched_case = NEW.case_number))
BEGIN SELECT RAISE(ABORT, 'case has a payment or is not open: it is never handed to bailiffs'); END;
CREATE TRIGGER case_needs_confirmed_fixation BEFORE INSERT ON cases
WHEN NOT EXISTS (SELECT 1 FROM fixations
                 WHERE fixation_id = NEW.fixation_id AND status = 'confirmed')
BEGIN SELECT RAISE(ABORT, 'a case is opened only from a fixation an officer confirmed'); END;
CREATE TRIGGER fixation_decided_once BEFORE UPDATE ON fixations
WHEN OLD.status != 'awaiting_review'
BEGIN SELECT RAISE(ABORT, 'a fixation is decided once: the decision is final'); END;
CREATE TRIGGER case_born_before_bailiffs BEFORE INSERT ON cases
WHEN NEW.status = 'sent_to_bailiffs'
BEGIN SELECT RAISE(ABORT, 'a case reaches the bailiffs only from open, never on insert'); END;
CREATE TRIGGER case_bailiffs_never_paid_minor BEFORE UPDATE ON cases
WHEN NEW.status = 'sent_to_bailiffs' AND (NEW.paid_minor != 0 OR OLD.paid_minor != 0)
BEGIN SELECT RAISE(ABORT, 'case has a payment: it is never handed to bailiffs'); END;
CREATE TRIGGER handover_needs_unpaid_case_sent BEFORE INSERT ON bailiff_handovers
WHEN NEW.kind = 'handover'
 AND NOT EXISTS (SELECT 1 FROM cases WHERE case_number = NEW.case_number
                 AND status = 'sent_to_bailiffs' AND paid_minor = 0)
BEGIN SELECT RAISE(ABORT, 'only an unpaid case moved to sent_to_bailiffs is handed over'); END;
CREATE TRIGGER recall_needs_handover BEFORE INSERT ON bailiff_handovers
WHEN NEW.kind = 'recall'
 AND NOT EXISTS (SELECT 1 FROM bailiff_handovers
                 WHERE case_number = NEW.case_number AND kind = 'handover')
BEGIN SELECT RAISE(ABORT, 'only a case handed to bailiffs can be recalled'); END;
CREATE TRIGGER bailiff_handovers_no_update BEFORE UPDATE ON bailiff_handovers
BEGIN SELECT RAISE(ABORT, 'bailiff hand-overs and recalls are append-only'); END;
CREATE TRIGGER bailiff_handovers_no_delete BEFORE DELETE ON bailiff_handovers
BEGIN SELECT RAISE(ABORT, 'bailiff hand-overs and recalls are append-only'); END;
CREATE TRIGGER payments_no_delete BEFORE DELETE ON payments
BEGIN SELECT RAISE(ABORT, 'payments are never deleted'); END;
CREATE TRIGGER payments_facts_fixed
BEFORE UPDATE OF payment_id, message_id, device_id, case_number, amount_minor, currency, paid_at,
                 received_at, channel ON payments
BEGIN SELECT RAISE(ABORT, 'a recorded payment is never altered'); END;
CREATE TRIGGER payments_match_kept BEFORE UPDATE OF matched_case ON payments
WHEN OLD.matched_case IS NOT NULL AND NEW.matched_case IS NOT OLD.matched_case
BEGIN SELECT RAISE(ABORT, 'a payment matched to a case stays matched to it'); END;
CREATE TRIGGER case_closed_stays_closed BEFORE UPDATE OF status ON cases
WHEN OLD.status IN ('paid', 'cancelled', 'expired') AND NEW.status != OLD.status
BEGIN SELECT RAISE(ABORT, 'a paid, cancelled or expired case is closed for good'); END;
CREATE TRIGGER case_cancelled_needs_approval BEFORE UPDATE OF status ON cases
WHEN NEW.status = 'cancelled' AND OLD.status != 'cancelled'
 AND NOT EXISTS (SELECT 1 FROM cancellation_requests
                 WHERE case_number = NEW.case_number AND status = 'approved')
BEGIN SELECT RAISE(ABORT, 'a case is cancelled only on an approved cancellation request'); END;
CREATE UNIQUE INDEX cancellation_one_pending
    ON cancellation_requests(case_number) WHERE status = 'pending';
CREATE TRIGGER cancellation_decided_once BEFORE UPDATE ON cancellation_requests
WHEN OLD.status != 'pending'
BEGIN SELECT RAISE(ABORT, 'a cancellation request is decided once'); END;
CREATE INDEX bailiff_handovers_case ON bailiff_handovers(case_number);
CREATE INDEX cases_limitation ON cases(status, limitation_at);
COMMIT;
