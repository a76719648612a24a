"""tools and functions: user-supplied Python modules

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('function',
    sa.Column('id', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('meta', JSON, nullable=False),
    sa.Column('valves', JSON, nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('is_global', sa.Boolean(), nullable=False),
    sa.Column('version_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_function'))
    )
    op.create_index(op.f('ix_function_user_id'), 'function', ['user_id'], unique=False)
    op.create_table('tool',
    sa.Column('id', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('specs', JSON, nullable=False),
    sa.Column('meta', JSON, nullable=False),
    sa.Column('valves', JSON, nullable=True),
    sa.Column('access_grants', JSON, nullable=False),
    sa.Column('version_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tool'))
    )
    op.create_index(op.f('ix_tool_created_at'), 'tool', ['created_at'], unique=False)
    op.create_index(op.f('ix_tool_user_id'), 'tool', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_tool_user_id'), table_name='tool')
    op.drop_index(op.f('ix_tool_created_at'), table_name='tool')
    op.drop_table('tool')
    op.drop_index(op.f('ix_function_user_id'), table_name='function')
    op.drop_table('function')
