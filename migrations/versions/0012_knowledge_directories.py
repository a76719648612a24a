"""knowledge directories

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('knowledge_directory',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('knowledge_id', sa.String(length=64), nullable=False),
    sa.Column('parent_id', sa.String(length=64), nullable=True),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['knowledge_id'], ['knowledge.id'], name=op.f('fk_knowledge_directory_knowledge_id_knowledge'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['parent_id'], ['knowledge_directory.id'], name=op.f('fk_knowledge_directory_parent_id_knowledge_directory'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_directory')),
    sa.UniqueConstraint('knowledge_id', 'parent_id', 'name', name=op.f('uq_knowledge_directory_knowledge_id_parent_id_name'))
    )
    with op.batch_alter_table('knowledge_directory', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_knowledge_directory_knowledge_id'), ['knowledge_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_knowledge_directory_parent_id'), ['parent_id'], unique=False)

    with op.batch_alter_table('knowledge_file', schema=None) as batch_op:
        batch_op.add_column(sa.Column('directory_id', sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_knowledge_file_directory_id_knowledge_directory'),
                                    'knowledge_directory', ['directory_id'], ['id'], ondelete='SET NULL')
        batch_op.create_index(batch_op.f('ix_knowledge_file_directory_id'), ['directory_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('knowledge_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_knowledge_file_directory_id'))
        batch_op.drop_constraint(batch_op.f('fk_knowledge_file_directory_id_knowledge_directory'), type_='foreignkey')
        batch_op.drop_column('directory_id')

    with op.batch_alter_table('knowledge_directory', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_knowledge_directory_parent_id'))
        batch_op.drop_index(batch_op.f('ix_knowledge_directory_knowledge_id'))

    op.drop_table('knowledge_directory')
