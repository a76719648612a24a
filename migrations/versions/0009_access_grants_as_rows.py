"""access grants as rows: the JSON ``access_grants`` lists of knowledge, models, prompts, skills and tools move
into ``access_grant`` (indexed by resource and by principal)

Revision ID: 0009
Revises: 0008
"""
import json
import time
import uuid

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
RESOURCES = {'knowledge': 'knowledge', 'model': 'model', 'prompt': 'prompt', 'skill': 'skill', 'tool': 'tool'}
"""Table → the grant's ``resource_type``."""

grant_table = sa.table('access_grant', sa.column('id', sa.String), sa.column('resource_type', sa.String),
                       sa.column('resource_id', sa.String), sa.column('principal_type', sa.String),
                       sa.column('principal_id', sa.String), sa.column('permission', sa.String),
                       sa.column('created_at', sa.BigInteger))


def _resource(table: str) -> sa.TableClause:
    return sa.table(table, sa.column('id', sa.String), sa.column('access_grants', JSON))


def _loaded(value):
    return json.loads(value) if isinstance(value, str) else value or []


def upgrade() -> None:
    op.create_table('access_grant',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('resource_type', sa.String(length=32), nullable=False),
    sa.Column('resource_id', sa.String(length=255), nullable=False),
    sa.Column('principal_type', sa.String(length=16), nullable=False),
    sa.Column('principal_id', sa.String(length=255), nullable=False),
    sa.Column('permission', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_grant'))
    )
    with op.batch_alter_table('access_grant', schema=None) as batch_op:
        batch_op.create_index('ix_access_grant_principal', ['principal_type', 'principal_id'], unique=False)
        batch_op.create_index('ix_access_grant_resource', ['resource_type', 'resource_id'], unique=False)

    bind, stamp = op.get_bind(), int(time.time())
    for table, resource_type in RESOURCES.items():
        source = _resource(table)
        rows = [{'id': grant.get('id') or str(uuid.uuid4()), 'resource_type': resource_type, 'resource_id': row.id,
                 'principal_type': grant.get('principal_type', 'user'), 'principal_id': str(grant['principal_id']),
                 'permission': grant.get('permission', 'read'), 'created_at': stamp}
                for row in bind.execute(sa.select(source.c.id, source.c.access_grants))
                for grant in _loaded(row.access_grants) if grant.get('principal_id')]
        if rows:
            op.bulk_insert(grant_table, rows)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('access_grants')


def downgrade() -> None:
    bind = op.get_bind()
    for table, resource_type in RESOURCES.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('access_grants', JSON, nullable=False, server_default='[]'))
        grants: dict[str, list] = {}
        for grant in bind.execute(sa.select(grant_table).where(grant_table.c.resource_type == resource_type)
                                  .order_by(grant_table.c.created_at)):
            grants.setdefault(grant.resource_id, []).append(
                {'id': grant.id, 'principal_type': grant.principal_type, 'principal_id': grant.principal_id,
                 'permission': grant.permission})
        target = _resource(table)
        for resource_id, items in grants.items():
            bind.execute(sa.update(target).where(target.c.id == resource_id).values(access_grants=items))

    with op.batch_alter_table('access_grant', schema=None) as batch_op:
        batch_op.drop_index('ix_access_grant_resource')
        batch_op.drop_index('ix_access_grant_principal')

    op.drop_table('access_grant')
