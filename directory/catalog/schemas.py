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


class NumberFormatSchema(ma.Schema):
    pattern = ma.fields.String(
        dump_only=True, metadata={"description": "What the canonical form matches whole (ASCII, upper case)"}
    )
    separators = ma.fields.String(dump_only=True, metadata={"description": "Characters that do not count"})
    example = ma.fields.String(dump_only=True, metadata={"description": "A number as the issuer prints it"})


class IssuerSchema(ma.Schema):
    slug = ma.fields.String(dump_only=True)
    name = ma.fields.String(dump_only=True)
    kind = ma.fields.String(dump_only=True)
    jurisdiction = ma.fields.String(dump_only=True)
    number_format = ma.fields.Function(
        lambda i: {
            "pattern": i.number_pattern,
            "separators": i.number_separators,
            "example": i.number_example,
        },
        metadata={"description": "How this issuer writes its numbers: a claim's number must fit it"},
    )
