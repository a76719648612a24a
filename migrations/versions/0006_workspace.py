"""workspace: models, prompts, skills and their versions

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('model',
    sa.Column('id', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('base_model_id', sa.String(length=255), nullable=True),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('params', JSON, nullable=False),
    sa.Column('meta', JSON, nullable=False),
    sa.Column('access_grants', JSON, nullable=False),
    sa.Column('version_id', sa.String(length=64), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_model'))
    )
    op.create_index(op.f('ix_model_user_id'), 'model', ['user_id'], unique=False)
    op.create_table('prompt',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('command', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('data', JSON, nullable=True),
    sa.Column('meta', JSON, nullable=True),
    sa.Column('tags', JSON, nullable=False),
    sa.Column('access_grants', JSON, nullable=False),
    sa.Column('version_id', sa.String(length=64), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prompt')),
    sa.UniqueConstraint('command', name=op.f('uq_prompt_command'))
    )
    op.create_index(op.f('ix_prompt_user_id'), 'prompt', ['user_id'], unique=False)
    op.create_table('skill',
    sa.Column('id', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('data', JSON, nullable=True),
    sa.Column('meta', JSON, nullable=False),
    sa.Column('access_grants', JSON, nullable=False),
    sa.Column('version_id', sa.String(length=64), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_skill')),
    sa.UniqueConstraint('name', name=op.f('uq_skill_name'))
    )
    op.create_index(op.f('ix_skill_user_id'), 'skill', ['user_id'], unique=False)
    op.create_table('version',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('object_id', sa.String(length=255), nullable=False),
    sa.Column('parent_id', sa.String(length=64), nullable=True),
    sa.Column('snapshot', JSON, nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('commit_message', sa.Text(), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_version'))
    )
    op.create_index(op.f('ix_version_created_at'), 'version', ['created_at'], unique=False)
    op.create_index('ix_version_kind_object_id', 'version', ['kind', 'object_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_version_kind_object_id', table_name='version')
    op.drop_index(op.f('ix_version_created_at'), table_name='version')
    op.drop_table('version')
    op.drop_index(op.f('ix_skill_user_id'), table_name='skill')
    op.drop_table('skill')
    op.drop_index(op.f('ix_prompt_user_id'), table_name='prompt')
    op.drop_table('prompt')
    op.drop_index(op.f('ix_model_user_id'), table_name='model')
    op.drop_table('model')
