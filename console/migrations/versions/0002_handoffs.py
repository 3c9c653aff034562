"""handoff to human advisers: adviser regions, handoffs, their messages, their log, canned replies

Revision ID: 0002
Revises: 0001
"""

import time

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_OPEN = sa.text("status IN ('queued', 'assigned')")

# A few ready answers per register (supervisors edit them in the console).
CANNED = [
    (
        "french",
        "Bonjour",
        "Bonjour, je suis conseiller ou conseillère de Tawjih. J'ai lu ta demande : comment puis-je t'aider ?",
    ),
    (
        "french",
        "Documents à préparer",
        "Pour ton dossier, prépare une copie de ta CIN, de ton dernier diplôme et un CV. "
        "Le centre te dira s'il faut autre chose.",
    ),
    (
        "french",
        "Voir avec le centre",
        "Le mieux est de confirmer directement avec le centre de ta région : c'est lui qui valide les conditions "
        "et les dates.",
    ),
    (
        "french",
        "Clôture",
        "Merci pour ta question ! Si tu as besoin d'autre chose, écris ici. Bonne chance pour ta formation.",
    ),
    ("darija_latin", "Salam", "Salam, ana conseiller dyal Tawjih. Qrit talab dyalk: kifach n9der n3awnek?"),
    (
        "darija_latin",
        "Lwata2i9",
        "Bach tsajjal, wajjed copie dyal la CIN, copie dyal akhir diplome w CV. "
        "Lmarkaz ghadi y9ol lik ila khass chi haja okhra.",
    ),
    (
        "darija_latin",
        "Lmarkaz",
        "Ahsan haja t2akked m3a lmarkaz dyal jiha dyalk: homa li kaytsaddqo 3la chorot w tawarikh.",
    ),
    (
        "darija_latin",
        "Bslama",
        "Choukran 3la so2al dyalk! Ila bghiti chi haja okhra, kteb hna. Bltawfi9 f la formation.",
    ),
    ("darija_arabic", "سلام", "سلام، أنا مستشار ديال توجيه. قريت الطلب ديالك: كيفاش نقدر نعاونك؟"),
    (
        "darija_arabic",
        "الوثائق",
        "باش تتسجل، وجد نسخة من البطاقة الوطنية، نسخة من آخر ديبلوم و CV. المركز غادي يقول ليك إلا خاص شي حاجة أخرى.",
    ),
    ("darija_arabic", "المركز", "حسن حاجة تأكد مع المركز ديال الجهة ديالك: هوما اللي كيصادقو على الشروط والتواريخ."),
    ("darija_arabic", "بسلامة", "شكرا على السؤال ديالك! إلا بغيتي شي حاجة أخرى، كتب هنا. بالتوفيق فالتكوين."),
]


def upgrade() -> None:
    op.create_table(
        "adviser_regions",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "region"),
    )
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=True),
        sa.Column("register", sa.String(length=32), nullable=True),
        sa.Column("region", sa.String(length=64), nullable=True),
        sa.Column("city", sa.String(length=64), nullable=True),
        sa.Column("programme", sa.String(length=128), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("adviser_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("within_hours", sa.Boolean(), nullable=False),
        sa.Column("claimed_at", sa.Float(), nullable=True),
        sa.Column("first_reply_at", sa.Float(), nullable=True),
        sa.Column("closed_at", sa.Float(), nullable=True),
        sa.Column("timed_out_at", sa.Float(), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("bot_active", sa.Boolean(), nullable=False),
        sa.Column("last_inbound_at", sa.Float(), nullable=True),
        sa.Column("last_event_id", sa.BigInteger(), nullable=False),
        sa.Column("unread", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["adviser_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.create_index("ix_handoffs_conversation_id", ["conversation_id"], unique=False)
        batch_op.create_index("ix_handoffs_status", ["status"], unique=False)
    op.create_index(
        "ux_handoffs_open_conversation",
        "handoffs",
        ["conversation_id"],
        unique=True,
        sqlite_where=_OPEN,
        postgresql_where=_OPEN,
    )
    op.create_table(
        "handoff_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handoff_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("event_id", sa.BigInteger(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("code", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["handoff_id"], ["handoffs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("handoff_messages", schema=None) as batch_op:
        batch_op.create_index("ix_handoff_messages_handoff_id", ["handoff_id"], unique=False)
    op.create_table(
        "handoff_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("handoff_id", sa.Integer(), nullable=True),
        sa.Column("handoff_key", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("region", sa.String(length=64), nullable=True),
        sa.Column("within_hours", sa.Boolean(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("handoff_log", schema=None) as batch_op:
        batch_op.create_index("ix_handoff_log_at", ["at"], unique=False)
        batch_op.create_index("ix_handoff_log_handoff_id", ["handoff_id"], unique=False)
    canned = op.create_table(
        "canned_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("register", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=80), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("canned_replies", schema=None) as batch_op:
        batch_op.create_index("ix_canned_replies_register", ["register"], unique=False)
    at = time.time()
    op.bulk_insert(
        canned,
        [
            {"register": register, "title": title, "text": text, "updated_by": "tawjih", "updated_at": at}
            for register, title, text in CANNED
        ],
    )


def downgrade() -> None:
    op.drop_table("canned_replies")
    op.drop_table("handoff_log")
    op.drop_table("handoff_messages")
    op.drop_index("ux_handoffs_open_conversation", table_name="handoffs")
    op.drop_table("handoffs")
    op.drop_table("adviser_regions")
