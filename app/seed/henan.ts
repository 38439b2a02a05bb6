// Henan's trading platforms keyed by GB/T 2260 region code, copied from shared/data/henan-platforms.json
// so the project never reads outside its own tree at run time.

export interface Division {
  code: string;
  name: string;
  nameEn: string;
}
export interface CountyDivision extends Division {
  parent: string;
}

export const HENAN_PROVINCE: Division = { code: '410000', name: '河南省', nameEn: 'Henan' };

/** Prefecture-level cities, plus Jiyuan, which the province administers directly. */
export const HENAN_CITIES: readonly Division[] = [
  { code: '410100', name: '郑州市', nameEn: 'Zhengzhou' },
  { code: '410200', name: '开封市', nameEn: 'Kaifeng' },
  { code: '410300', name: '洛阳市', nameEn: 'Luoyang' },
  { code: '410400', name: '平顶山市', nameEn: 'Pingdingshan' },
  { code: '410500', name: '安阳市', nameEn: 'Anyang' },
  { code: '410600', name: '鹤壁市', nameEn: 'Hebi' },
  { code: '410700', name: '新乡市', nameEn: 'Xinxiang' },
  { code: '410800', name: '焦作市', nameEn: 'Jiaozuo' },
  { code: '410900', name: '濮阳市', nameEn: 'Puyang' },
  { code: '411000', name: '许昌市', nameEn: 'Xuchang' },
  { code: '411100', name: '漯河市', nameEn: 'Luohe' },
  { code: '411200', name: '三门峡市', nameEn: 'Sanmenxia' },
  { code: '411300', name: '南阳市', nameEn: 'Nanyang' },
  { code: '411400', name: '商丘市', nameEn: 'Shangqiu' },
  { code: '411500', name: '信阳市', nameEn: 'Xinyang' },
  { code: '411600', name: '周口市', nameEn: 'Zhoukou' },
  { code: '411700', name: '驻马店市', nameEn: 'Zhumadian' },
  { code: '419001', name: '济源市', nameEn: 'Jiyuan' },
];

export const ZHUMADIAN = '411700';

/** Only Zhumadian's county-level divisions are modelled: it is the demo's host city. */
export const ZHUMADIAN_COUNTIES: readonly CountyDivision[] = [
  { code: '411702', parent: ZHUMADIAN, name: '驿城区', nameEn: 'Yicheng District' },
  { code: '411721', parent: ZHUMADIAN, name: '西平县', nameEn: 'Xiping County' },
  { code: '411722', parent: ZHUMADIAN, name: '上蔡县', nameEn: 'Shangcai County' },
  { code: '411723', parent: ZHUMADIAN, name: '平舆县', nameEn: 'Pingyu County' },
  { code: '411724', parent: ZHUMADIAN, name: '正阳县', nameEn: 'Zhengyang County' },
  { code: '411725', parent: ZHUMADIAN, name: '确山县', nameEn: 'Queshan County' },
  { code: '411726', parent: ZHUMADIAN, name: '泌阳县', nameEn: 'Biyang County' },
  { code: '411727', parent: ZHUMADIAN, name: '汝南县', nameEn: 'Runan County' },
  { code: '411728', parent: ZHUMADIAN, name: '遂平县', nameEn: 'Suiping County' },
  { code: '411729', parent: ZHUMADIAN, name: '新蔡县', nameEn: 'Xincai County' },
];
