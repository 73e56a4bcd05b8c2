/**
 * The simulated prefecture of the quick-start fleet: 102 township stations across the 7 counties of
 * Pingliang (DOMAIN.md §1), named after the townships in Chinese with pinyin station ids
 * (`<county>-<township>`).
 *
 * SAMPLE DATA, clearly: the townships are real place names but the list is an illustration, not the
 * prefecture's registry; the coordinates are each county's approximate centre with a deterministic offset
 * of up to ±0.15°, enough for the sun-outage calendar (DOMAIN.md §2) to differ a little between stations.
 */

/** One simulated station. */
export interface PrefectureStation {
  id: string;
  /** Township name in Chinese. */
  name: string;
  /** County group id (headend migration 1 seeds the 7 counties). */
  county: string;
  lat: number;
  lon: number;
  /** Dish diameter, m (DOMAIN.md §2: 1.8 m). */
  dishM: number;
}

/** Approximate county centres (degrees N, E). */
const COUNTIES: Record<string, { lat: number; lon: number; townships: [string, string][] }> = {
  kongtong: {
    lat: 35.54,
    lon: 106.67,
    townships: [
      ['kongtong', '崆峒镇'],
      ['baishui', '白水镇'],
      ['caofeng', '草峰镇'],
      ['anguo', '安国镇'],
      ['liuhu', '柳湖镇'],
      ['sishilipu', '四十里铺镇'],
      ['huasuo', '花所镇'],
      ['suoluo', '索罗乡'],
      ['xianglian', '香莲乡'],
      ['xiyang', '西阳回族乡'],
      ['dazhai', '大寨回族乡'],
      ['shangyang', '上杨回族乡'],
      ['mawu', '麻武乡'],
      ['xiamen', '峡门回族乡'],
      ['zhaihe', '寨河回族乡'],
      ['baimiao', '白庙回族乡'],
      ['daqin', '大秦回族乡'],
    ],
  },
  huating: {
    lat: 35.22,
    lon: 106.65,
    townships: [
      ['donghua', '东华镇'],
      ['ankou', '安口镇'],
      ['xihua', '西华镇'],
      ['maxia', '马峡镇'],
      ['cedi', '策底镇'],
      ['shangguan', '上关镇'],
      ['hexi', '河西镇'],
      ['yanxia', '砚峡乡'],
      ['shenyu', '神峪回族乡'],
      ['shanzhai', '山寨回族乡'],
    ],
  },
  jingchuan: {
    lat: 35.33,
    lon: 107.37,
    townships: [
      ['chengguan', '城关镇'],
      ['yudu', '玉都镇'],
      ['gaoping', '高平镇'],
      ['libao', '荔堡镇'],
      ['wangcun', '王村镇'],
      ['yaodian', '窑店镇'],
      ['feiyun', '飞云镇'],
      ['fengtai', '丰台镇'],
      ['dangyuan', '党原镇'],
      ['ruifeng', '汭丰镇'],
      ['jingming', '泾明乡'],
      ['honghe', '红河乡'],
      ['luohandong', '罗汉洞乡'],
      ['taiping', '太平镇'],
    ],
  },
  lingtai: {
    lat: 35.07,
    lon: 107.62,
    townships: [
      ['zhongtai', '中台镇'],
      ['shaozhai', '邵寨镇'],
      ['dudian', '独店镇'],
      ['shizi', '什字镇'],
      ['chaona', '朝那镇'],
      ['xitun', '西屯镇'],
      ['shangliang', '上良镇'],
      ['baili', '百里镇'],
      ['puwo', '蒲窝镇'],
      ['liangyuan', '梁原乡'],
      ['longmen', '龙门乡'],
      ['xinghuo', '星火乡'],
      ['xinkai', '新开乡'],
    ],
  },
  chongxin: {
    lat: 35.3,
    lon: 107.03,
    townships: [
      ['jinping', '锦屏镇'],
      ['xinyao', '新窑镇'],
      ['baishu', '柏树镇'],
      ['huangzhai', '黄寨镇'],
      ['huanghua', '黄花乡'],
      ['mulin', '木林乡'],
    ],
  },
  zhuanglang: {
    lat: 35.2,
    lon: 106.04,
    townships: [
      ['shuiluo', '水洛镇'],
      ['nanhu', '南湖镇'],
      ['zhudian', '朱店镇'],
      ['wanquan', '万泉镇'],
      ['handian', '韩店镇'],
      ['yangchuan', '阳川镇'],
      ['dazhuang', '大庄镇'],
      ['yuebu', '岳堡镇'],
      ['tonghua', '通化镇'],
      ['wolong', '卧龙镇'],
      ['nanping', '南坪镇'],
      ['zhaodun', '赵墩镇'],
      ['liuliang', '柳梁镇'],
      ['yongning', '永宁镇'],
      ['liangyi', '良邑镇'],
      ['zhenghe', '郑河乡'],
      ['yanghe', '杨河乡'],
      ['panan', '盘安镇'],
    ],
  },
  jingning: {
    lat: 35.52,
    lon: 105.73,
    townships: [
      ['chengguan', '城关镇'],
      ['weirong', '威戎镇'],
      ['jieshipu', '界石铺镇'],
      ['bali', '八里镇'],
      ['lidian', '李店镇'],
      ['gucheng', '古城镇'],
      ['renda', '仁大镇'],
      ['gangou', '甘沟镇'],
      ['chengchuan', '城川镇'],
      ['zhiping', '治平镇'],
      ['siqiao', '司桥镇'],
      ['yuwan', '余湾镇'],
      ['jiahe', '贾河乡'],
      ['shengou', '深沟乡'],
      ['xindian', '新店乡'],
      ['yuanan', '原安镇'],
      ['shuangxian', '双岘镇'],
      ['hongsi', '红寺镇'],
      ['xixiang', '细巷镇'],
      ['leida', '雷大镇'],
      ['sihe', '四河镇'],
      ['lingzhi', '灵芝镇'],
      ['caowu', '曹务镇'],
      ['sanhe', '三合乡'],
    ],
  },
};

/** Deterministic offset in [-0.15, 0.15] from a string (FNV-1a). */
function offset(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return ((h % 3001) / 3000 - 0.5) * 0.3;
}

/** Every station of the prefecture, county by county. */
export const PREFECTURE: readonly PrefectureStation[] = Object.entries(COUNTIES).flatMap(([county, c]) =>
  c.townships.map(([pinyin, name]) => ({
    id: `${county}-${pinyin}`,
    name,
    county,
    lat: Math.round((c.lat + offset(`${county}${pinyin}lat`)) * 1e4) / 1e4,
    lon: Math.round((c.lon + offset(`${county}${pinyin}lon`)) * 1e4) / 1e4,
    dishM: 1.8,
  })),
);

/**
 * The first `n` stations, taken county by county in turn so that a small fleet still spans the counties
 * (n = 7 gives one station per county).
 */
export function prefectureStations(n: number = PREFECTURE.length): PrefectureStation[] {
  if (!Number.isInteger(n) || n < 1 || n > PREFECTURE.length)
    throw new RangeError(`stations: 1–${PREFECTURE.length}, got ${n}`);
  const byCounty = Object.keys(COUNTIES).map((county) => PREFECTURE.filter((s) => s.county === county));
  const out: PrefectureStation[] = [];
  for (let i = 0; out.length < n; i++) {
    for (const list of byCounty) {
      const s = list[i];
      if (s && out.length < n) out.push(s);
    }
  }
  return out;
}
