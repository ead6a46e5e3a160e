/**
 * @module api/schemas
 * The API's shapes as TypeBox schemas: one object is the request validator, the static type and the
 * OpenAPI document. Objects refuse unknown fields (`additionalProperties: false`), so a misspelt
 * option is an error rather than silently ignored. Fields are camelCase; times are ISO 8601.
 */
import { type Static, Type } from 'typebox';
import { E164_PATTERN } from '../domain/e164.ts';
import { FAX_STATUSES } from '../domain/fax-status.ts';
import { MAX_URL_LENGTH } from '../net/fetch-document-url.ts';

const closed = { additionalProperties: false } as const;
const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([Type.Null(), schema]);

export const PhoneNumber = Type.String({ pattern: E164_PATTERN, description: 'E.164, e.g. +14155550100' });
export const Timestamp = Type.String({ format: 'date-time' });
export const Resolution = Type.Union(
  [Type.Literal('standard'), Type.Literal('fine'), Type.Literal('superfine')],
  {
    description: 'standard 204×98, fine 204×196, superfine 204×392 dpi',
  },
);
export const Priority = Type.Union([Type.Literal('low'), Type.Literal('normal'), Type.Literal('high')]);
export const FaxStatusSchema = Type.Union(FAX_STATUSES.map((s) => Type.Literal(s)));
export const Direction = Type.Union([Type.Literal('outbound'), Type.Literal('inbound')]);

export const Metadata = Type.Record(
  Type.String({ pattern: '^[A-Za-z0-9_.-]{1,40}$' }),
  Type.String({ maxLength: 500 }),
  {
    maxProperties: 20,
    additionalProperties: false,
    description: 'Your own key/value pairs, returned as given; at most 20.',
  },
);

export const Cover = Type.Object(
  {
    subject: Type.Optional(Type.String({ maxLength: 200 })),
    message: Type.Optional(Type.String({ maxLength: 4000 })),
  },
  closed,
);

export const Retries = Type.Object(
  {
    count: Type.Integer({ minimum: 0, maximum: 10 }),
    delaySeconds: Type.Integer({ minimum: 0, maximum: 86_400 }),
  },
  closed,
);

export const ErrorResponse = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    details: Type.Record(Type.String(), Type.Unknown()),
  }),
});

export const FaxDocument = Type.Object({
  id: Type.String(),
  contentType: Type.String(),
  size: Type.Integer(),
  pageCount: nullable(Type.Integer()),
  filename: nullable(Type.String()),
});

export const Fax = Type.Object({
  id: Type.String({ description: 'fax_…' }),
  direction: Direction,
  status: FaxStatusSchema,
  to: Type.String(),
  from: Type.String(),
  pageCount: nullable(Type.Integer()),
  pagesTransferred: Type.Integer(),
  resolution: Resolution,
  priority: Priority,
  headerText: nullable(Type.String({ description: 'Printed in the header line of every page sent' })),
  cover: nullable(Cover),
  retries: Retries,
  attempts: Type.Integer(),
  sendAt: nullable(Timestamp),
  failure: nullable(Type.Object({ code: Type.String(), retryable: Type.Boolean(), message: Type.String() })),
  line: nullable(
    Type.Object({
      bitRate: nullable(Type.Integer()),
      ecm: nullable(Type.Boolean()),
      compression: nullable(Type.String()),
      resolution: nullable(Type.String()),
    }),
  ),
  remoteIdent: nullable(Type.String()),
  metadata: Type.Record(Type.String(), Type.String()),
  documents: Type.Array(FaxDocument),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  completedAt: nullable(Timestamp),
  deletedAt: nullable(Timestamp),
});
export type FaxView = Static<typeof Fax>;

export const DocumentContentInput = Type.Object(
  {
    // Not empty: checked when decoded (a schema length check would walk a 10 MB text for nothing).
    content: Type.String({ description: 'The file, base64-encoded (not empty)' }),
    contentType: Type.Optional(Type.String({ maxLength: 100, description: 'A hint; the content decides' })),
    filename: Type.Optional(Type.String({ maxLength: 255 })),
  },
  { ...closed, title: 'DocumentContent' },
);

export const DocumentUrlInput = Type.Object(
  {
    url: Type.String({
      minLength: 1,
      maxLength: MAX_URL_LENGTH,
      description:
        'An http or https URL the server fetches the file from before accepting the fax. It must reach a public ' +
        'address (private networks only if FAXWIRE_FETCH_ALLOW_NETS allows them); redirects are followed up to 5 times.',
    }),
    filename: Type.Optional(
      Type.String({ maxLength: 255, description: "Defaults to the URL path's last segment" }),
    ),
  },
  { ...closed, title: 'DocumentUrl' },
);

/** One document of a new fax: its bytes inline, or where to fetch them — one form or the other, not both. */
export const DocumentInput = Type.Union([DocumentContentInput, DocumentUrlInput], {
  description: 'Either `content` (base64, with an optional `contentType`) or `url`, not both',
});

/** What a header text may hold: the header line's font draws printable ASCII only. */
export const HEADER_TEXT_RULE =
  '`headerText` may hold only printable ASCII: letters A–Z and a–z, digits, spaces and ' +
  '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~ (no accented letters, tabs or line breaks).';
export const HeaderText = Type.String({
  maxLength: 50,
  pattern: '^[ -~]*$',
  description:
    'Printed, when given, as the header line at the top of every page sent: the time of the attempt (UTC), ' +
    'this text, the from and to numbers and the page number. At most 50 printable ASCII characters.',
});

/** Every option of a new fax except the documents, shared by the JSON and multipart forms. */
export const faxOptionProperties = {
  to: PhoneNumber,
  from: PhoneNumber,
  resolution: Type.Optional(Resolution),
  priority: Type.Optional(Priority),
  headerText: Type.Optional(HeaderText),
  cover: Type.Optional(Cover),
  retries: Type.Optional(Retries),
  sendAt: Type.Optional(Timestamp),
  metadata: Type.Optional(Metadata),
};

export function createFaxBody(maxDocuments: number) {
  return Type.Object(
    { ...faxOptionProperties, documents: Type.Array(DocumentInput, { maxItems: maxDocuments }) },
    closed,
  );
}
export const FaxOptions = Type.Object(faxOptionProperties, closed);
export type CreateFaxBody = Static<ReturnType<typeof createFaxBody>>;
export type FaxOptionsBody = Static<typeof FaxOptions>;

export const FaxListQuery = Type.Object(
  {
    direction: Type.Optional(Direction),
    status: Type.Optional(FaxStatusSchema),
    number: Type.Optional(PhoneNumber),
    createdAfter: Type.Optional(Timestamp),
    createdBefore: Type.Optional(Timestamp),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  closed,
);

export const FaxIdParams = Type.Object({ id: Type.String({ maxLength: 64 }) }, closed);

export const listOf = <T extends Parameters<typeof Type.Array>[0]>(item: T) =>
  Type.Object({ data: Type.Array(item), nextCursor: nullable(Type.String()) });

export const NumberSchema = Type.Object({
  id: Type.String({ description: 'num_…' }),
  number: Type.String(),
  inboundEnabled: Type.Boolean(),
  csi: nullable(Type.String()),
  label: nullable(Type.String()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

/** T.30 §5.3.6.2.4: an identification is at most 20 characters of digits, + and space. */
export const Csi = Type.String({ pattern: '^[0-9+ ]{0,20}$' });

export const CreateNumberBody = Type.Object(
  {
    inboundEnabled: Type.Optional(Type.Boolean()),
    csi: Type.Optional(Csi),
    label: Type.Optional(Type.String({ maxLength: 100 })),
  },
  closed,
);
export const PatchNumberBody = Type.Object(
  {
    inboundEnabled: Type.Optional(Type.Boolean()),
    csi: Type.Optional(nullable(Csi)),
    label: Type.Optional(nullable(Type.String({ maxLength: 100 }))),
  },
  { ...closed, minProperties: 1 },
);
export const NumberParams = Type.Object({ number: PhoneNumber }, closed);

export const ApiKeySchema = Type.Object({
  id: Type.String({ description: 'key_…' }),
  name: Type.String(),
  prefix: Type.String({ description: 'The start of the key, to tell keys apart' }),
  createdAt: Timestamp,
  lastUsedAt: nullable(Timestamp),
  revokedAt: nullable(Timestamp),
});
export const CreatedApiKey = Type.Object({
  ...ApiKeySchema.properties,
  key: Type.String({ description: 'The secret; shown only in this response' }),
});
export const CreateKeyBody = Type.Object(
  { name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })) },
  closed,
);
export const KeyParams = Type.Object({ id: Type.String({ maxLength: 64 }) }, closed);
