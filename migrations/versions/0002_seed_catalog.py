"""seed the vocabulary and issuers from the domain notes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

The rows live here, not in application code, so that every database gets the same catalog at
the same revision, whatever the code says later.
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TECHNIQUES = [
    ("neuromuscular-therapy", "Neuromuscular therapy (NMT)",
     "Sustained, firm pressure on myofascial trigger points to release tension and restore function; "
     "also called neuro massage."),
    ("trigger-point-therapy", "Trigger point therapy / myotherapy",
     "Sustained pressure on a trigger point for about 10 to 30 seconds to release it and relieve local "
     "and referred pain."),
    ("myofascial-release", "Myofascial release",
     "Gentle, sustained pressure into the myofascial connective tissue to ease pain and restore motion."),
    ("positional-release", "Positional release",
     "The body is placed in a position of ease so the muscle relaxes and the tissue can heal."),
    ("pnf-stretching", "Proprioceptive neuromuscular facilitation (PNF)",
     "Contract-relax stretching to improve flexibility and range of motion."),
    ("flexibility-stretching", "Flexibility stretching",
     "Assisted stretching to improve range of motion and reduce stiffness."),
    ("friction-techniques", "Friction techniques",
     "Cross-fibre friction to break down adhesions and scar tissue that limit mobility."),
    ("deep-tissue", "Deep tissue massage", "Slow, deep strokes into the deeper layers of muscle and fascia."),
    ("sports-massage", "Sports massage", "Pre- and post-event work and injury recovery for athletes."),
    ("swedish-massage", "Swedish massage", "Long gliding strokes for relaxation and circulation."),
]

CONDITIONS = [
    ("chronic-pain", "Chronic pain"),
    ("back-pain", "Back pain"),
    ("neck-pain", "Neck and shoulder pain"),
    ("headaches", "Chronic headaches"),
    ("muscle-spasms", "Muscle spasms"),
    ("fibromyalgia", "Fibromyalgia"),
    ("arthritis", "Arthritis"),
    ("repetitive-strain", "Repetitive strain injuries"),
    ("postural-imbalance", "Postural imbalance"),
    ("nerve-compression", "Nerve compression / sciatica"),
    ("soft-tissue-injury", "Soft tissue injury"),
    ("post-surgical", "Post-surgical rehabilitation"),
    ("limited-mobility", "Limited range of motion"),
    ("stress", "Stress and tension"),
]

CLIENT_GROUPS = [
    ("athletes", "Athletes"),
    ("office-workers", "Office workers"),
    ("chronic-conditions", "People with chronic conditions"),
    ("post-surgery", "Post-surgery patients"),
    ("stress-sufferers", "People under high stress"),
]

ISSUERS = [
    ("ncbtmb", "National Certification Board for Therapeutic Massage & Bodywork", "certification-board", "US"),
    ("camtc", "California Massage Therapy Council", "licensing-board", "US-CA"),
    ("tx-tdlr", "Texas Department of Licensing and Regulation, Massage Therapy", "licensing-board", "US-TX"),
    ("fl-bmt", "Florida Board of Massage Therapy", "licensing-board", "US-FL"),
    ("ny-sed", "New York State Education Department, Massage Therapy", "licensing-board", "US-NY"),
    ("wa-doh", "Washington State Department of Health, Massage Therapy", "licensing-board", "US-WA"),
    ("il-idfpr", "Illinois Department of Financial and Professional Regulation, Massage Therapy",
     "licensing-board", "US-IL"),
    ("nmt-center", "NMT Center (NMT American version)", "training-program", "US"),
    ("st-john-nmt", "St. John Method of Neuromuscular Therapy", "training-program", "US"),
    ("namtpt", "National Association of Myofascial Trigger Point Therapists (CMTPT)", "training-program", "US"),
]


def _table(name, *columns):
    return sa.table(name, *(sa.column(c) for c in columns))


def upgrade():
    op.bulk_insert(
        _table("techniques", "slug", "name", "description"),
        [{"slug": s, "name": n, "description": d} for s, n, d in TECHNIQUES],
    )
    op.bulk_insert(_table("conditions", "slug", "name"), [{"slug": s, "name": n} for s, n in CONDITIONS])
    op.bulk_insert(_table("client_groups", "slug", "name"), [{"slug": s, "name": n} for s, n in CLIENT_GROUPS])
    op.bulk_insert(
        _table("issuers", "slug", "name", "kind", "jurisdiction"),
        [{"slug": s, "name": n, "kind": k, "jurisdiction": j} for s, n, k, j in ISSUERS],
    )


def downgrade():
    for name, rows in (("techniques", TECHNIQUES), ("conditions", CONDITIONS),
                       ("client_groups", CLIENT_GROUPS), ("issuers", ISSUERS)):
        slugs = [r[0] for r in rows]
        op.execute(sa.text(f"DELETE FROM {name} WHERE slug IN :slugs").bindparams(  # noqa: S608
            sa.bindparam("slugs", slugs, expanding=True)))
