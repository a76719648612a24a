"""groups, and the user's oauth and scim identities

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('group',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('parent_group_id', sa.String(length=64), nullable=True),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('data', JSON, nullable=True),
    sa.Column('meta', JSON, nullable=True),
    sa.Column('permissions', JSON, nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['parent_group_id'], ['group.id'], name=op.f('fk_group_parent_group_id_group'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group'))
    )
    with op.batch_alter_table('group', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_name'), ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_group_parent_group_id'), ['parent_group_id'], unique=False)

    op.create_table('group_member',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('group_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['group.id'], name=op.f('fk_group_member_group_id_group'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_group_member_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_member')),
    sa.UniqueConstraint('group_id', 'user_id', name=op.f('uq_group_member_group_id_user_id'))
    )
    with op.batch_alter_table('group_member', schema=None) as batch_op:
        batch_op.create_index('ix_group_member_user_id_group_id', ['user_id', 'group_id'], unique=False)

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('oauth', JSON, nullable=True))
        batch_op.add_column(sa.Column('scim', JSON, nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('scim')
        batch_op.drop_column('oauth')

    with op.batch_alter_table('group_member', schema=None) as batch_op:
        batch_op.drop_index('ix_group_member_user_id_group_id')

    op.drop_table('group_member')
    with op.batch_alter_table('group', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_group_parent_group_id'))
        batch_op.drop_index(batch_op.f('ix_group_name'))

    op.drop_table('group')
