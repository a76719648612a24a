"""files, vectors, knowledge and memories

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 11:01:15.907707
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('file',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.Text(), nullable=True),
    sa.Column('filename', sa.Text(), nullable=False),
    sa.Column('path', sa.Text(), nullable=True),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('meta', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_file'))
    )
    with op.batch_alter_table('file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_file_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_file_user_id'), ['user_id'], unique=False)

    op.create_table('knowledge',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('meta', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('access_grants', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge'))
    )
    with op.batch_alter_table('knowledge', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_knowledge_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_knowledge_user_id'), ['user_id'], unique=False)

    op.create_table('memory',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('path', sa.Text(), nullable=True),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('meta', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_memory'))
    )
    with op.batch_alter_table('memory', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_memory_user_id'), ['user_id'], unique=False)

    op.create_table('vector_chunk',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('collection', sa.String(length=255), nullable=False),
    sa.Column('file_id', sa.String(length=64), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('meta', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('embedding', sa.LargeBinary(), nullable=False),
    sa.Column('dimensions', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vector_chunk'))
    )
    with op.batch_alter_table('vector_chunk', schema=None) as batch_op:
        batch_op.create_index('ix_vector_chunk_collection_file', ['collection', 'file_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_vector_chunk_file_id'), ['file_id'], unique=False)

    op.create_table('knowledge_file',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('knowledge_id', sa.String(length=64), nullable=False),
    sa.Column('file_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['file_id'], ['file.id'], name=op.f('fk_knowledge_file_file_id_file'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['knowledge_id'], ['knowledge.id'], name=op.f('fk_knowledge_file_knowledge_id_knowledge'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_file')),
    sa.UniqueConstraint('knowledge_id', 'file_id', name=op.f('uq_knowledge_file_knowledge_id_file_id'))
    )
    with op.batch_alter_table('knowledge_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_knowledge_file_file_id'), ['file_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_knowledge_file_knowledge_id'), ['knowledge_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('knowledge_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_knowledge_file_knowledge_id'))
        batch_op.drop_index(batch_op.f('ix_knowledge_file_file_id'))

    op.drop_table('knowledge_file')
    with op.batch_alter_table('vector_chunk', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vector_chunk_file_id'))
        batch_op.drop_index('ix_vector_chunk_collection_file')

    op.drop_table('vector_chunk')
    with op.batch_alter_table('memory', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_memory_user_id'))

    op.drop_table('memory')
    with op.batch_alter_table('knowledge', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_knowledge_user_id'))
        batch_op.drop_index(batch_op.f('ix_knowledge_created_at'))

    op.drop_table('knowledge')
    with op.batch_alter_table('file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_file_user_id'))
        batch_op.drop_index(batch_op.f('ix_file_created_at'))

    op.drop_table('file')
