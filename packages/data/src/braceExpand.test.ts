import { describe, expect, it } from 'vitest';
import { braceExpand } from './braceExpand.js';

// Expected values follow braceexpand 0.1.7's rules (webdataset's expander), worked by hand.
describe('braceExpand', () => {
  it('expands zero-padded ranges to the wider end', () => {
    expect(braceExpand('data/{00000..00002}.tar')).toEqual(['data/00000.tar', 'data/00001.tar', 'data/00002.tar']);
    expect(braceExpand('{00008..00010}')).toEqual(['00008', '00009', '00010']);
    expect(braceExpand('{0..010}')).toEqual(['000', '001', '002', '003', '004', '005', '006', '007', '008', '009', '010']);
    // No leading zero: no padding.
    expect(braceExpand('s-{8..11}.tar')).toEqual(['s-8.tar', 's-9.tar', 's-10.tar', 's-11.tar']);
  });

  it('expands lists, nested groups and several groups as a product, left to right', () => {
    expect(braceExpand('{a,b}/{0..1}.tar')).toEqual(['a/0.tar', 'a/1.tar', 'b/0.tar', 'b/1.tar']);
    expect(braceExpand('x{a,b{c,d}}y')).toEqual(['xay', 'xbcy', 'xbdy']);
    expect(braceExpand('{x,}z')).toEqual(['xz', 'z']);
  });

  it('counts down, takes a step, and expands letter ranges', () => {
    expect(braceExpand('{10..0..5}')).toEqual(['10', '5', '0']);
    expect(braceExpand('{a..e..2}')).toEqual(['a', 'c', 'e']);
    expect(braceExpand('{-01..1}')).toEqual(['-01', '000', '001']);
  });

  it('leaves braces with no range or comma, and plain names, as written', () => {
    expect(braceExpand('{a}.tar')).toEqual(['{a}.tar']);
    expect(braceExpand('shard-{.tar')).toEqual(['shard-{.tar']);
    expect(braceExpand('https://host/x.tar')).toEqual(['https://host/x.tar']);
  });
});
