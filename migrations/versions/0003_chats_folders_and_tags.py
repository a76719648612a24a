"""chats, folders and tags

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 11:10:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
RAW_JSON = sa.JSON(none_as_null=True)


def upgrade() -> None:
    op.create_table('folder',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('parent_id', sa.String(length=64), nullable=True),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('items', JSON, nullable=True),
    sa.Column('meta', JSON, nullable=True),
    sa.Column('data', JSON, nullable=True),
    sa.Column('is_expanded', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['folder.id'], name=op.f('fk_folder_parent_id_folder'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_folder_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_folder'))
    )
    op.create_index('ix_folder_user_id_parent_id', 'folder', ['user_id', 'parent_id'], unique=False)
    op.create_table('tag',
    sa.Column('id', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('meta', JSON, nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_tag_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', 'user_id', name=op.f('pk_tag'))
    )
    op.create_table('chat',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('chat', RAW_JSON, nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.Column('share_id', sa.String(length=64), nullable=True),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('pinned', sa.Boolean(), nullable=False),
    sa.Column('meta', JSON, nullable=False),
    sa.Column('variables', JSON, nullable=True),
    sa.Column('folder_id', sa.String(length=64), nullable=True),
    sa.Column('current_message_id', sa.Text(), nullable=True),
    sa.Column('last_read_at', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['folder_id'], ['folder.id'], name=op.f('fk_chat_folder_id_folder'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_chat_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chat')),
    sa.UniqueConstraint('share_id', name=op.f('uq_chat_share_id'))
    )
    op.create_index('ix_chat_folder_id', 'chat', ['folder_id'], unique=False)
    op.create_index('ix_chat_user_id_archived_updated_at', 'chat', ['user_id', 'archived', 'updated_at', 'id'],
                    unique=False)
    op.create_index('ix_chat_user_id_pinned', 'chat', ['user_id', 'pinned'], unique=False)
    op.create_table('chat_tag',
    sa.Column('chat_id', sa.String(length=64), nullable=False),
    sa.Column('tag_id', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['chat_id'], ['chat.id'], name=op.f('fk_chat_tag_chat_id_chat'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('chat_id', 'tag_id', name=op.f('pk_chat_tag'))
    )
    op.create_index('ix_chat_tag_user_id_tag_id', 'chat_tag', ['user_id', 'tag_id'], unique=False)
    op.create_table('shared_chat',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('chat_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('chat', RAW_JSON, nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['chat_id'], ['chat.id'], name=op.f('fk_shared_chat_chat_id_chat'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_shared_chat_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shared_chat'))
    )
    op.create_index(op.f('ix_shared_chat_chat_id'), 'shared_chat', ['chat_id'], unique=False)
    op.create_index(op.f('ix_shared_chat_user_id'), 'shared_chat', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_shared_chat_user_id'), table_name='shared_chat')
    op.drop_index(op.f('ix_shared_chat_chat_id'), table_name='shared_chat')
    op.drop_table('shared_chat')
    op.drop_index('ix_chat_tag_user_id_tag_id', table_name='chat_tag')
    op.drop_table('chat_tag')
    op.drop_index('ix_chat_user_id_pinned', table_name='chat')
    op.drop_index('ix_chat_user_id_archived_updated_at', table_name='chat')
    op.drop_index('ix_chat_folder_id', table_name='chat')
    op.drop_table('chat')
    op.drop_table('tag')
    op.drop_index('ix_folder_user_id_parent_id', table_name='folder')
    op.drop_table('folder')
