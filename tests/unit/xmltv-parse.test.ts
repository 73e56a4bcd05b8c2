/**
 * The streaming XMLTV parser (headend/guide/xmltv-parse.ts over xml-tokenizer.ts): what comes out of a
 * file, however it is cut into chunks, and the typed error (with line and column) when the file is broken.
 */
import fc from 'fast-check';
import t from 'tap';
import {
  parseXmltv,
  XmlSyntaxError,
  XmltvFormatError,
  type XmltvItem,
  type XmltvProgramme,
  XmltvStreamParser,
} from '../../headend/guide/xmltv-parse.js';

function parseChunks(chunks: (Uint8Array | string)[]): { items: XmltvItem[]; parser: XmltvStreamParser } {
  const parser = new XmltvStreamParser();
  const items: XmltvItem[] = [];
  for (const c of chunks) items.push(...parser.write(c));
  items.push(...parser.end());
  return { items, parser };
}

function parseBytes(bytes: Uint8Array, step: number): XmltvItem[] {
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += step) chunks.push(bytes.subarray(i, i + step));
  return parseChunks(chunks).items;
}

const DOC = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE tv SYSTEM "xmltv.dtd" [ <!ENTITY x "1 > 0"> ]>
<!-- comment with <tags> & ampersands -->
<tv source-info-name='a "quoted" > b' generator-info-name="gen">
  <channel id="cctv1.cn"><display-name lang="zh">CCTV-1 综合</display-name><display-name>CCTV1</display-name></channel>
  <programme start="20261127190000 +0800" stop='20261127193000 +0800' channel="cctv1.cn">
    <title lang="zh">新闻联播</title>
    <title lang="en">News &amp; &lt;b&gt;Weather&lt;/b&gt; &#x4E2D;&#25991;</title>
    <sub-title><![CDATA[<i>Part 1</i> & more]]></sub-title>
    <desc lang="zh">第一行
      第二行</desc>
    <category lang="zh">新闻</category>
    <episode-num system="xmltv_ns">0.4/12.</episode-num>
    <rating system="CN"><value>G</value></rating>
  </programme>
  <programme start="20261127193000 +0800" channel="cctv1.cn"><title>Unclosed <b>bold</b> title</title></programme>
</tv>
`;

t.test(
  'channels and programmes come out with every field, entities decoded, markup kept as text',
  async (t) => {
    const { items, parser } = parseChunks([DOC]);
    t.equal(items.length, 3);
    t.same(items[0], {
      kind: 'channel',
      id: 'cctv1.cn',
      displayNames: [{ text: 'CCTV-1 综合', lang: 'zh' }, { text: 'CCTV1' }],
      line: 5,
    });
    const p = items[1] as XmltvProgramme;
    t.equal(p.channel, 'cctv1.cn');
    t.equal(p.start, '20261127190000 +0800');
    t.equal(p.stop, '20261127193000 +0800', 'single-quoted attribute');
    t.same(p.titles, [
      { text: '新闻联播', lang: 'zh' },
      { text: 'News & <b>Weather</b> 中文', lang: 'en' },
    ]);
    t.same(p.subTitles, [{ text: '<i>Part 1</i> & more' }], 'CDATA kept verbatim, markup not interpreted');
    t.same(p.descs, [{ text: '第一行 第二行', lang: 'zh' }], 'line breaks inside a field fold to a space');
    t.same(p.categories, [{ text: '新闻', lang: 'zh' }]);
    t.same(p.episodeNums, [{ system: 'xmltv_ns', value: '0.4/12.' }]);
    t.equal(p.line, 6);
    const q = items[2] as XmltvProgramme;
    t.equal(q.stop, undefined, 'a missing stop stays missing (the import decides)');
    t.same(
      q.titles,
      [{ text: 'Unclosed bold title' }],
      'a stray element inside a title contributes its text',
    );
    t.same(parser.warnings, []);
  },
);

t.test('the same items however the bytes are cut, including inside UTF-8 characters', async (t) => {
  const bytes = Buffer.from(DOC, 'utf8');
  const whole = parseBytes(bytes, bytes.length);
  for (const step of [1, 2, 3, 5, 7, 64]) t.same(parseBytes(bytes, step), whole, `chunks of ${step} bytes`);
  fc.assert(
    fc.property(fc.uniqueArray(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 40 }), (cuts) => {
      const sorted = [...cuts].sort((a, b) => a - b);
      const chunks: Uint8Array[] = [];
      let prev = 0;
      for (const c of sorted) {
        chunks.push(bytes.subarray(prev, c));
        prev = c;
      }
      chunks.push(bytes.subarray(prev));
      t.same(parseChunks(chunks).items, whole);
    }),
    { numRuns: 200 },
  );
});

t.test('parseXmltv reads any async source lazily', async (t) => {
  async function* source() {
    yield Buffer.from(DOC.slice(0, 100));
    yield DOC.slice(100);
  }
  const kinds: string[] = [];
  for await (const item of parseXmltv(source())) kinds.push(item.kind);
  t.same(kinds, ['channel', 'programme', 'programme']);
});

t.test('encodings: BOM, declared GB18030, UTF-16', async (t) => {
  const bom = Buffer.concat([
    Buffer.from([0xef, 0xbb, 0xbf]),
    Buffer.from('<tv><channel id="a"><display-name>é</display-name></channel></tv>'),
  ]);
  t.same((parseBytes(bom, 3)[0] as { displayNames: unknown }).displayNames, [{ text: 'é' }]);
  // "中文" in GB18030/GBK is D6 D0 CE C4 (feeds in China are sometimes not UTF-8).
  const gb = Buffer.concat([
    Buffer.from('<?xml version="1.0" encoding="GB18030"?><tv><channel id="a"><display-name>'),
    Buffer.from([0xd6, 0xd0, 0xce, 0xc4]),
    Buffer.from('</display-name></channel></tv>'),
  ]);
  for (const step of [1, 7, gb.length]) {
    t.same(
      (parseBytes(gb, step)[0] as { displayNames: unknown }).displayNames,
      [{ text: '中文' }],
      `step ${step}`,
    );
  }
  const u16 = Buffer.concat([
    Buffer.from([0xff, 0xfe]),
    Buffer.from('<tv><channel id="b"/></tv>', 'utf16le'),
  ]);
  t.same(parseBytes(u16, 5), [{ kind: 'channel', id: 'b', displayNames: [], line: 1 }]);
});

t.test('unknown entities and bare ampersands are kept as written and counted', async (t) => {
  const { items, parser } = parseChunks([
    '<tv><programme start="1" channel="c"><title>Tom & Jerry &nbsp;&copy;</title></programme>\n</tv>',
  ]);
  t.same((items[0] as XmltvProgramme).titles, [{ text: 'Tom & Jerry &nbsp;&copy;' }]);
  const codes = Object.fromEntries(parser.warnings.map((w) => [w.code, w.count]));
  t.same(codes, { BARE_AMPERSAND: 1, UNKNOWN_ENTITY: 2 });
});

interface Broken {
  name: string;
  doc: string;
  code: string;
  line: number;
  message: RegExp;
}

const BROKEN: Broken[] = [
  {
    name: 'mismatched close',
    doc: '<tv>\n<programme>\n<title>x</titel>',
    code: 'MISMATCHED_TAG',
    line: 3,
    message: /<\/titel> closes <title>/,
  },
  {
    name: 'truncated file',
    doc: '<tv>\n<programme start="1">\n<title>x</title>',
    code: 'TRUNCATED',
    line: 3,
    message: /end of file inside <programme>/,
  },
  {
    name: 'truncated inside a tag',
    doc: '<tv>\n<programme start="1',
    code: 'TRUNCATED',
    line: 2,
    message: /inside a tag/,
  },
  {
    name: 'text outside the root',
    doc: '<tv></tv>\ngarbage',
    code: 'MALFORMED',
    line: 2,
    message: /text outside the root/,
  },
  { name: 'a second root', doc: '<tv></tv>\n<tv></tv>', code: 'MALFORMED', line: 2, message: /second root/ },
  {
    name: 'unquoted attribute',
    doc: '<tv>\n  <channel id=x></channel></tv>',
    code: 'MALFORMED',
    line: 2,
    message: /not quoted/,
  },
  {
    name: 'attribute twice',
    doc: '<tv a="1" a="2"></tv>',
    code: 'MALFORMED',
    line: 1,
    message: /given twice/,
  },
  {
    name: '< inside a value',
    doc: '<tv a="<"></tv>',
    code: 'MALFORMED',
    line: 1,
    message: /"<" inside the value/,
  },
  {
    name: 'bad character reference',
    doc: '<tv><programme>\n<title>&#xD800;</title></programme></tv>',
    code: 'MALFORMED',
    line: 2,
    message: /invalid character reference/,
  },
  { name: 'stray close', doc: '</tv>', code: 'MALFORMED', line: 1, message: /without an open element/ },
  { name: 'empty document', doc: '   \n ', code: 'NO_ROOT', line: 2, message: /no root element/ },
  {
    name: 'HTML instead of XMLTV',
    doc: '<!DOCTYPE html>\n<html><body>Not Found</body></html>',
    code: 'NOT_XMLTV',
    line: 2,
    message: /root element is <html>/,
  },
];

for (const b of BROKEN) {
  t.test(`broken: ${b.name} → ${b.code} at line ${b.line}`, async (t) => {
    for (const step of [1, 4, 1000]) {
      const err = t.throws(() => parseBytes(Buffer.from(b.doc), step)) as Error & {
        code?: string;
        line?: number;
      };
      t.ok(err instanceof XmlSyntaxError || err instanceof XmltvFormatError, 'a typed error');
      t.equal(err.code, b.code);
      t.equal(err.line, b.line);
      t.match(err.message, b.message);
    }
  });
}

t.test('invalid UTF-8 is an ENCODING error, not garbage text', async (t) => {
  const bad = Buffer.concat([
    Buffer.from('<tv><channel id="a"><display-name>'),
    Buffer.from([0xc3, 0x28]),
    Buffer.from('</display-name></channel></tv>'),
  ]);
  const err = t.throws(() => parseBytes(bad, 8)) as XmlSyntaxError;
  t.equal(err.code, 'ENCODING');
  t.match(err.message, /not valid UTF-8 near byte 3[4-6]$/);
});

t.test('a token larger than the cap fails instead of growing memory', async (t) => {
  const parser = new XmltvStreamParser({ maxTokenChars: 1000 });
  parser.write('<tv><!-- never closed ');
  const err = t.throws(() => {
    for (let i = 0; i < 10; i++) parser.write('x'.repeat(200));
  }) as XmlSyntaxError;
  t.equal(err.code, 'TOKEN_TOO_LARGE');
});

t.test('a long description is cut at maxFieldChars', async (t) => {
  const parser = new XmltvStreamParser({ maxFieldChars: 10 });
  const items = [
    ...parser.write(
      `<tv><programme start="1" channel="c"><title>x</title><desc>${'长'.repeat(50)}</desc></programme></tv>`,
    ),
    ...parser.end(),
  ];
  t.equal((items[0] as XmltvProgramme).descs[0]?.text, '长'.repeat(10));
});
