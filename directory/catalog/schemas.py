import marshmallow as ma


class TechniqueSchema(ma.Schema):
    slug = ma.fields.String(dump_only=True)
    name = ma.fields.String(dump_only=True)
    description = ma.fields.String(dump_only=True)


class TermSchema(ma.Schema):
    slug = ma.fields.String(dump_only=True)
    name = ma.fields.String(dump_only=True)


class VocabularySchema(ma.Schema):
    techniques = ma.fields.List(ma.fields.Nested(TechniqueSchema), dump_only=True)
    conditions = ma.fields.List(ma.fields.Nested(TermSchema), dump_only=True)
    client_groups = ma.fields.List(ma.fields.Nested(TermSchema), dump_only=True)


class IssuerSchema(ma.Schema):
    slug = ma.fields.String(dump_only=True)
    name = ma.fields.String(dump_only=True)
    kind = ma.fields.String(dump_only=True)
    jurisdiction = ma.fields.String(dump_only=True)
