var ver = '5.6.1';
