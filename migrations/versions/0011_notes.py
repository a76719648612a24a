"""notes

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table(
        'note',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.String(length=64), nullable=False),
        sa.Column('title', sa.Text(), nullable=False),
        sa.Column('data', JSON, nullable=True),
        sa.Column('meta', JSON, nullable=True),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.Column('updated_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_note')),
    )
    op.create_index('ix_note_updated_at', 'note', ['updated_at'])
    op.create_index(op.f('ix_note_user_id'), 'note', ['user_id'])
    op.create_table(
        'pinned_note',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.String(length=64), nullable=False),
        sa.Column('note_id', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['note_id'], ['note.id'], name=op.f('fk_pinned_note_note_id_note'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pinned_note')),
    )
    op.create_index('ix_pinned_note_user_id_note_id', 'pinned_note', ['user_id', 'note_id'], unique=True)


def downgrade() -> None:
    op.drop_table('pinned_note')
    op.drop_table('note')
